"""Live entries from the catalog generation's answers, with their shapes checked.

The catalog (``GET /api/v1/llm/models/catalog``) lists every *definition* of the
organisation, one per ``(model_id, source)``: a name may be defined by ``byo`` (the
team's own), ``serving`` and ``cluster`` (the platform's) at once, and served from at
most one of them. registry-sync plans per name, so the definitions of one name are
grouped into one :class:`LiveEntry`: the primary definition is the ``byo`` one if any,
else the active one, else the first listed; :class:`Activation` says which source
serves the name and which define it.

As for the registry generation, an answer of the wrong shape raises
:class:`ResponseShapeError` naming the JSON path: it is never read as an empty
catalog. Keys this version does not know are ignored, as the SDK's models ignore them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from registry_sync.errors import ResponseShapeError
from registry_sync.live.entries import (
    Activation,
    LiveEntry,
    LiveHealth,
    clean_definition,
    parse_health,
    refuse_a_partial_list,
)
from registry_sync.schema.values import json_kind

__all__ = [
    "ACTIVE",
    "BLOCKED",
    "BYO",
    "CatalogItem",
    "is_catalog_document",
    "parse_catalog_entry",
    "parse_catalog_item",
    "parse_catalog_list",
    "parse_registry_entry_response",
]

BYO = "byo"
# The catalog's activation states (the SDK also lets unknown strings through).
ACTIVE = "active"
BLOCKED = "available_name_blocked"


@dataclass(frozen=True)
class CatalogItem:
    """One CatalogEntry as sent, its shape checked: one definition of one source."""

    model_id: str
    source: str
    origin: str | None
    activation_state: str
    blocker_source: str | None
    definition: dict[str, Any]
    updated_at: float | None
    health: LiveHealth


def is_catalog_document(document: object) -> bool:
    """True when a saved list response is the catalog's: it has a ``currency`` key, or
    its items have a ``model_id`` and no ``id``. An empty ``data`` without ``currency``
    is the registry generation's (both read the same: no entries)."""
    if not isinstance(document, dict):
        return False
    if "currency" in document:
        return True
    data = document.get("data")
    if not isinstance(data, list) or not data:
        return False
    first = data[0]
    return isinstance(first, dict) and "model_id" in first and "id" not in first


def parse_catalog_list(document: object, origin: str) -> list[LiveEntry]:
    """Parse ``{"object": "list", "currency", "data": [CatalogEntry, ...]}`` into one
    live entry per name, in the order each name first appears."""
    if not isinstance(document, dict):
        raise ResponseShapeError(origin, "", f"expected a JSON object, got {json_kind(document)}")
    if document.get("object") != "list":
        raise ResponseShapeError(
            origin, "object", f"expected 'list', got {document.get('object')!r}"
        )
    currency = document.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise ResponseShapeError(
            origin, "currency", f"expected a string or null, got {json_kind(currency)}"
        )
    data = document.get("data")
    if not isinstance(data, list):
        raise ResponseShapeError(origin, "data", f"expected a list, got {json_kind(data)}")
    refuse_a_partial_list(document, origin)
    groups: dict[str, list[tuple[int | None, CatalogItem]]] = {}
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(data):
        item = parse_catalog_item(raw, origin, f"data[{index}]")
        key = (item.model_id, item.source)
        if key in seen:
            raise ResponseShapeError(
                origin,
                f"data[{index}]",
                f"model_id {item.model_id!r} from source {item.source!r} repeats data[{seen[key]}]",
            )
        seen[key] = index
        groups.setdefault(item.model_id, []).append((index, item))
    return [_grouped(items, origin) for items in groups.values()]


def parse_catalog_entry(document: object, origin: str) -> LiveEntry:
    """One CatalogEntry (an add or update answer) as a live entry; its activation knows
    only this definition's source."""
    return _grouped([(None, parse_catalog_item(document, origin))], origin)


def _grouped(items: list[tuple[int | None, CatalogItem]], origin: str) -> LiveEntry:
    active = [(index, item) for index, item in items if item.activation_state == ACTIVE]
    if len(active) > 1:
        (first, one), (second, other) = active[:2]
        raise ResponseShapeError(
            origin,
            f"data[{second}].activation_state",
            f"name {other.model_id!r} is active from {other.source!r} and from "
            f"{one.source!r} (data[{first}]); a name is served from one source at most",
        )
    primary = next(
        (item for _, item in items if item.source == BYO),
        active[0][1] if active else items[0][1],
    )
    if active:
        serving: str | None = active[0][1].source
    else:
        serving = next(
            (item.blocker_source for _, item in items if item.activation_state == BLOCKED), None
        )
    return LiveEntry(
        id=primary.model_id,
        immutable=primary.source != BYO or primary.origin == "yaml",
        source=primary.source,
        definition=primary.definition,
        updated_at=primary.updated_at,
        health=primary.health,
        origin=primary.origin,
        activation=Activation(serving, tuple(item.source for _, item in items)),
    )


def parse_catalog_item(document: object, origin: str, where: str = "") -> CatalogItem:
    """Check one CatalogEntry object and keep what registry-sync reads of it."""
    prefix = f"{where}." if where else ""
    if not isinstance(document, dict):
        raise ResponseShapeError(
            origin, where, f"expected a JSON object, got {json_kind(document)}"
        )
    model_id = document.get("model_id")
    if not isinstance(model_id, str) or not model_id:
        raise ResponseShapeError(
            origin, f"{prefix}model_id", f"expected a string, got {json_kind(model_id)}"
        )
    source = _string(document, "source", origin, prefix)
    state = _string(document, "activation_state", origin, prefix)
    if "origin" not in document:
        raise ResponseShapeError(origin, f"{prefix}origin", "missing ('api', 'yaml' or null)")
    definition_origin = _string_or_null(document, "origin", origin, prefix)
    blocker = _string_or_null(document, "blocker_source", origin, prefix)
    definition = document.get("definition")
    if not isinstance(definition, dict):
        raise ResponseShapeError(
            origin, f"{prefix}definition", f"expected a JSON object, got {json_kind(definition)}"
        )
    for key in ("created_at", "updated_at"):
        stamp = document.get(key)
        if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, (int, float))):
            raise ResponseShapeError(
                origin,
                f"{prefix}{key}",
                f"expected epoch milliseconds or null, got {json_kind(stamp)}",
            )
    return CatalogItem(
        model_id=model_id,
        source=source,
        origin=definition_origin,
        activation_state=state,
        blocker_source=blocker,
        definition=clean_definition(definition, model_id, origin, prefix),
        updated_at=document.get("updated_at"),
        health=_catalog_health(document.get("health"), origin, f"{prefix}health"),
    )


def _catalog_health(value: object, origin: str, where: str) -> LiveHealth:
    """``{status, is_available, last_health_check, error}``: required in a CatalogEntry."""
    if not isinstance(value, dict):
        raise ResponseShapeError(origin, where, f"expected a JSON object, got {json_kind(value)}")
    status = value.get("status")
    if not isinstance(status, str):
        raise ResponseShapeError(
            origin, f"{where}.status", f"expected a string, got {json_kind(status)}"
        )
    found = parse_health(value, origin, where)
    assert found is not None  # a dict, checked above
    return dataclasses.replace(found, status=status)


def parse_registry_entry_response(
    document: object, origin: str, model_id: str, source: str
) -> None:
    """Check an activation's answer, ``RegistryEntryResponse {model_id, source,
    activated_by, activated_at}``: it must name the name and source asked for."""
    if not isinstance(document, dict):
        raise ResponseShapeError(origin, "", f"expected a JSON object, got {json_kind(document)}")
    for key, expected in (("model_id", model_id), ("source", source)):
        value = document.get(key)
        if value != expected:
            shown = repr(value) if isinstance(value, str) else json_kind(value)
            raise ResponseShapeError(origin, key, f"expected {expected!r}, got {shown}")
    for key in ("activated_by", "activated_at"):
        _string(document, key, origin, "")


def _string(document: dict[str, Any], key: str, origin: str, prefix: str) -> str:
    value = document.get(key)
    if not isinstance(value, str):
        raise ResponseShapeError(
            origin, f"{prefix}{key}", f"expected a string, got {json_kind(value)}"
        )
    return value


def _string_or_null(document: dict[str, Any], key: str, origin: str, prefix: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise ResponseShapeError(
            origin, f"{prefix}{key}", f"expected a string or null, got {json_kind(value)}"
        )
    return value
