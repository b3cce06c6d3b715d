"""Live registry entries, parsed from the list response with its shape checked.

A response of the wrong shape raises :class:`ResponseShapeError`: it is never read
as an empty registry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from registry_sync.errors import ResponseShapeError
from registry_sync.schema.secrets import redact
from registry_sync.schema.server import without_nulls
from registry_sync.schema.values import json_kind

__all__ = [
    "HEALTH_ERROR_LIMIT",
    "SERVER_OWNED_IN_DEFINITION",
    "Activation",
    "LiveEntry",
    "LiveHealth",
    "clean_definition",
    "one_line",
    "parse_entry",
    "parse_health",
    "parse_list_response",
    "refuse_a_partial_list",
]

# Keys the server echoes inside ``definition``.
SERVER_OWNED_IN_DEFINITION = frozenset({"source", "immutable"})


# A health error is shown on one line, cut to this many characters.
HEALTH_ERROR_LIMIT = 300


@dataclass(frozen=True)
class LiveHealth:
    """What the registry last learnt of an entry's health (the list's ``health``).

    ``last_health_check`` is epoch milliseconds, None when never checked; ``error``
    is the server's message on one line, None when it gave none. ``status`` is the
    catalog generation's ``available``, ``unavailable`` or ``unknown`` (its
    ``is_available`` is also true when unknown); None in the registry generation.
    """

    is_available: bool
    last_health_check: float | None = None
    error: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Activation:
    """Which source serves a name, in the catalog generation (None in the registry
    generation, where every entry is served). ``active`` is the source serving the
    name now (``byo``, ``serving`` or ``cluster``), None when none does; ``sources``
    every source that defines the name, in the catalog's order."""

    active: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class LiveEntry:
    """One registry entry as the server has it.

    ``definition`` excludes the server-owned keys echoed inside it and every null
    (a null means absent, see :func:`without_nulls`). It may hold
    fields this tool does not know (the API's definition is an open object) and
    secrets: render it only through :func:`registry_sync.schema.secrets.redact`.
    ``health`` is the list's ``health``, None when the server sent none; it is an
    observation, not part of what the entry is, so it takes no part in equality or
    in the fingerprint.
    """

    id: str
    immutable: bool
    source: str
    definition: dict[str, Any]
    updated_at: float | None = None
    health: LiveHealth | None = field(default=None, compare=False)
    # The catalog generation only: the definition's origin (``api`` or ``yaml``; a
    # yaml-origin definition is read-only) and who serves the name.
    origin: str | None = None
    activation: Activation | None = None

    @cached_property
    def redacted(self) -> dict[str, Any]:
        """:attr:`definition` with every secret shown as ``(sensitive)``: worked out once
        per entry (the plan compares it, then fingerprints it)."""
        return redact(self.definition)

    def fingerprint(self) -> str:
        """A stable digest of what the entry is now; secrets enter it only redacted."""
        payload: dict[str, Any] = {
            "id": self.id,
            "immutable": self.immutable,
            "definition": self.redacted,
            "updated_at": self.updated_at,
        }
        if self.activation is not None:
            # Only in the catalog generation, so the registry generation's digests stay.
            payload["activation"] = [self.activation.active, list(self.activation.sources)]
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def parse_list_response(document: object, origin: str) -> list[LiveEntry]:
    """Parse ``{"object": "list", "data": [RegistryModel, ...]}`` into live entries."""
    if not isinstance(document, dict):
        raise ResponseShapeError(origin, "", f"expected a JSON object, got {json_kind(document)}")
    if document.get("object") != "list":
        raise ResponseShapeError(
            origin, "object", f"expected 'list', got {document.get('object')!r}"
        )
    data = document.get("data")
    if not isinstance(data, list):
        raise ResponseShapeError(origin, "data", f"expected a list, got {json_kind(data)}")
    refuse_a_partial_list(document, origin)
    entries = [parse_entry(item, origin, f"data[{index}]") for index, item in enumerate(data)]
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.id in seen:
            raise ResponseShapeError(
                origin, f"data[{index}].id", f"id {entry.id!r} repeats data[{seen[entry.id]}]"
            )
        seen[entry.id] = index
    return entries


# Cursor keys a paginated list would carry; the API documents none.
_CURSOR_KEYS = ("next", "next_cursor", "nextCursor", "next_page_token", "cursor")


def refuse_a_partial_list(document: dict[str, Any], origin: str) -> None:
    """Fail closed on a list that says it continues: planning from part of the
    registry would read the rest as absent (and prune would delete it)."""
    more = document.get("has_more", False)
    if more is not False and more is not None:
        shown = "true" if more is True else json_kind(more)
        raise ResponseShapeError(
            origin,
            "has_more",
            f"the list says it continues (has_more: {shown}), but the API documents no "
            "pagination; this registry-sync cannot read the rest",
        )
    for key in _CURSOR_KEYS:
        if document.get(key) not in (None, ""):
            raise ResponseShapeError(
                origin,
                key,
                "the list names a next page, but the API documents no pagination; this "
                "registry-sync cannot read the rest",
            )


def parse_entry(document: object, origin: str, where: str = "") -> LiveEntry:
    """Parse one RegistryModel object (a get/add/update response or a list item)."""
    prefix = f"{where}." if where else ""
    if not isinstance(document, dict):
        raise ResponseShapeError(
            origin, where, f"expected a JSON object, got {json_kind(document)}"
        )
    entry_id = document.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise ResponseShapeError(
            origin, f"{prefix}id", f"expected a string, got {json_kind(entry_id)}"
        )
    immutable = document.get("immutable")
    if not isinstance(immutable, bool):
        raise ResponseShapeError(
            origin, f"{prefix}immutable", f"expected a boolean, got {json_kind(immutable)}"
        )
    source = document.get("source")
    if not isinstance(source, str):
        raise ResponseShapeError(
            origin, f"{prefix}source", f"expected a string, got {json_kind(source)}"
        )
    definition = document.get("definition")
    if not isinstance(definition, dict):
        raise ResponseShapeError(
            origin, f"{prefix}definition", f"expected a JSON object, got {json_kind(definition)}"
        )
    clean = clean_definition(definition, entry_id, origin, prefix)
    updated_at = document.get("updated_at")
    if updated_at is not None and (
        isinstance(updated_at, bool) or not isinstance(updated_at, (int, float))
    ):
        raise ResponseShapeError(
            origin,
            f"{prefix}updated_at",
            f"expected epoch milliseconds or null, got {json_kind(updated_at)}",
        )
    health = parse_health(document.get("health"), origin, f"{prefix}health")
    return LiveEntry(
        id=entry_id,
        immutable=immutable,
        source=source,
        definition=clean,
        updated_at=updated_at,
        health=health,
    )


def clean_definition(
    definition: dict[str, Any], entry_id: str, origin: str, prefix: str = ""
) -> dict[str, Any]:
    """A live ``definition`` as desired state compares it: without the server-owned
    keys echoed inside and without nulls, with ``id`` (the entry's when it lacks one).
    A ``definition.id`` other than the entry's is a :class:`ResponseShapeError`."""
    inner_id = definition.get("id", entry_id)
    if inner_id != entry_id:
        raise ResponseShapeError(
            origin, f"{prefix}definition.id", f"{inner_id!r} differs from the entry id {entry_id!r}"
        )
    if SERVER_OWNED_IN_DEFINITION.isdisjoint(definition):
        clean = definition
    else:
        clean = {k: v for k, v in definition.items() if k not in SERVER_OWNED_IN_DEFINITION}
    clean = without_nulls(clean)
    if "id" not in clean:
        clean = {"id": entry_id, **clean}
    return clean


def parse_health(value: object, origin: str, where: str) -> LiveHealth | None:
    """Parse ``{is_available, last_health_check, error}``; absent or null is None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ResponseShapeError(origin, where, f"expected a JSON object, got {json_kind(value)}")
    available = value.get("is_available")
    if not isinstance(available, bool):
        raise ResponseShapeError(
            origin, f"{where}.is_available", f"expected a boolean, got {json_kind(available)}"
        )
    checked = value.get("last_health_check")
    if checked is not None and (isinstance(checked, bool) or not isinstance(checked, (int, float))):
        raise ResponseShapeError(
            origin,
            f"{where}.last_health_check",
            f"expected epoch milliseconds or null, got {json_kind(checked)}",
        )
    error = value.get("error")
    if error is not None and not isinstance(error, str):
        raise ResponseShapeError(
            origin, f"{where}.error", f"expected a string or null, got {json_kind(error)}"
        )
    return LiveHealth(available, checked, one_line(error) if error is not None else None)


def one_line(text: str, limit: int = HEALTH_ERROR_LIMIT) -> str:
    """``text`` on one line (runs of white space made one space), cut to ``limit``."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
