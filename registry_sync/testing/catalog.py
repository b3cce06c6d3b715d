"""The local registry's catalog mode: definitions by ``(name, source)`` and activation.

It follows the catalog generation of the API (SDK 0.12.128; ``shared/mka1-registry-api.md``)
as strictly as the SDK: add and update bodies are checked with
:func:`api_problems` for the catalog, and a key the SDK's request models do not know is
refused (the SDK would never send it); only byo definitions of ``api`` origin change
(403 for serving, cluster and yaml-origin ones); a name is served from one source at
most (409 naming the holder). Answers have the SDK's response shapes, built by
:func:`~registry_sync.testing.factories.catalog_entry`.

:class:`CatalogStore` holds no lock: the server calls it with its own lock held.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from registry_sync.live.catalog import ACTIVE, BLOCKED, BYO, parse_catalog_list
from registry_sync.schema.definition import api_problems
from registry_sync.schema.fields import definition_fields
from registry_sync.testing.factories import catalog_entry, catalog_list

__all__ = ["CATALOG_PREFIX", "MODELS_PREFIX", "SOURCES", "CatalogStore", "Reply", "iso_now"]

MODELS_PREFIX = "/api/v1/llm/models"
CATALOG_PREFIX = f"{MODELS_PREFIX}/catalog"
_REGISTRY = f"{MODELS_PREFIX}/registry"
_HEALTH = f"{CATALOG_PREFIX}/health"
SOURCES = ("byo", "serving", "cluster")
# Who the local registry says activated a name.
ACTIVATED_BY = "admin"

# (status, payload): the server turns it into its reply.
Reply = tuple[int, Any]


def iso_now() -> str:
    """Now as the API writes a date-time: ISO 8601, UTC, milliseconds, ``Z``."""
    now = datetime.now(timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, message: str, kind: str) -> Reply:
    return status, {"error": {"message": message, "type": kind}}


@dataclass
class _Definition:
    model_id: str
    source: str
    origin: str | None
    definition: dict[str, Any]
    created_at: float | None
    updated_at: float | None


@dataclass
class CatalogStore:
    """The catalog's state. ``health_of(model_id, checked_at)`` gives the ``health``
    object the server's switches make for a name (None: no switch, the name is
    healthy); ``store_nulls`` and ``fill_defaults`` are the server's (see
    ``RegistryServer``)."""

    health_of: Callable[[str, int | None], dict[str, Any] | None]
    now_ms: Callable[[], int]
    store_nulls: bool = False
    fill_defaults: Mapping[str, Any] = field(default_factory=dict)
    definitions: dict[tuple[str, str], _Definition] = field(default_factory=dict)
    health: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # name -> {"source", "activated_by", "activated_at"}
    active: dict[str, dict[str, str]] = field(default_factory=dict)
    # Definition fields the seed held that the SDK does not know (a newer server's).
    newer_fields: set[str] = field(default_factory=set)

    # -- seeding and views -------------------------------------------------------

    def seed(self, document: Any, origin: str) -> None:
        """Load a CatalogListResponse, checked as the tool checks a real one."""
        parse_catalog_list(document, origin)
        blockers: dict[str, str] = {}
        for item in document["data"]:
            key = (item["model_id"], item["source"])
            definition = {"id": item["model_id"], **copy.deepcopy(item["definition"])}
            self.newer_fields.update(set(definition) - set(definition_fields("catalog")))
            self.definitions[key] = _Definition(
                item["model_id"],
                item["source"],
                item["origin"],
                definition,
                item.get("created_at"),
                item.get("updated_at"),
            )
            self.health[key] = copy.deepcopy(item["health"])
            if item["activation_state"] == ACTIVE:
                self.active[item["model_id"]] = {
                    "source": item["source"],
                    "activated_by": item.get("activated_by") or ACTIVATED_BY,
                    "activated_at": item.get("activated_at") or iso_now(),
                }
            elif item["activation_state"] == BLOCKED and item.get("blocker_source"):
                blockers[item["model_id"]] = item["blocker_source"]
        for name, holder in blockers.items():
            # A name held by a source this organisation's catalog does not list.
            self.active.setdefault(
                name, {"source": holder, "activated_by": ACTIVATED_BY, "activated_at": iso_now()}
            )

    def served_fields(self) -> frozenset[str]:
        """Top-level fields beyond the SDK's that the seed's definitions held: seeded
        ones make this a newer server, which knows (and takes back) what it returns,
        whether or not a definition holds them now."""
        return frozenset(self.newer_fields)

    def render(self, key: tuple[str, str]) -> dict[str, Any]:
        """One CatalogEntry as the API answers it now."""
        stored = self.definitions[key]
        holder = self.active.get(stored.model_id)
        is_active = holder is not None and holder["source"] == stored.source
        health = self.health[key]
        return catalog_entry(
            stored.definition,
            source=stored.source,
            origin=stored.origin,
            active=is_active,
            blocker_source=None if holder is None or is_active else holder["source"],
            health=health,
            created_at=_int(stored.created_at),
            updated_at=_int(stored.updated_at),
            activated=(holder["activated_by"], holder["activated_at"])
            if holder is not None
            else (ACTIVATED_BY, ""),
        )

    def document(self) -> dict[str, Any]:
        """The whole catalog, as ``GET /catalog`` answers it."""
        return catalog_list(self.render(key) for key in self.definitions)

    def set_health(self, model_id: str, checked_at: int | None) -> None:
        """Store the switches' verdict for every definition of ``model_id`` (available,
        checked at ``checked_at``, when no switch names it)."""
        health = self.health_of(model_id, checked_at) or {
            "status": "available",
            "is_available": True,
            "last_health_check": checked_at,
            "error": None,
        }
        for key in self._keys(model_id):
            self.health[key] = dict(health)

    def _keys(self, model_id: str) -> Iterable[tuple[str, str]]:
        return [key for key in self.definitions if key[0] == model_id]

    # -- routing -------------------------------------------------------------------

    def route(self, method: str, raw_path: str, raw_query: str, body: Any) -> Reply | None:
        """The reply to a request under ``/api/v1/llm/models``; None when no route
        matches (the server answers 404)."""
        path = raw_path.rstrip("/")
        query = parse_qs(raw_query, keep_blank_values=True)
        handlers: dict[tuple[str, str], Callable[[], Reply]] = {
            (CATALOG_PREFIX, "GET"): lambda: (200, self.document()),
            (CATALOG_PREFIX, "POST"): lambda: self._add(body),
            (CATALOG_PREFIX, "PATCH"): lambda: self._update(body),
            (CATALOG_PREFIX, "DELETE"): lambda: self._with_id(query, self._remove),
            (_HEALTH, "POST"): lambda: self._with_id(query, self._probe),
            (_REGISTRY, "GET"): lambda: (200, self._active_list()),
            (_REGISTRY, "POST"): lambda: self._activate(body),
            (_REGISTRY, "DELETE"): lambda: self._with_id(query, self._deactivate),
        }
        handler = handlers.get((path, method))
        if handler is not None:
            return handler()
        if path in (CATALOG_PREFIX, _HEALTH, _REGISTRY):
            return _error(405, f"{method} is not allowed here", "invalid_request_error")
        return None

    @staticmethod
    def _with_id(query: dict[str, list[str]], handler: Callable[[str], Reply]) -> Reply:
        ids = query.get("id", [])
        if len(ids) != 1 or not ids[0]:
            return _error(400, "the query parameter id is required, once", "invalid_request_error")
        return handler(ids[0])

    # -- definitions -----------------------------------------------------------------

    def _add(self, body: Any) -> Reply:
        problems = _body_problems(body, update=False, served=self.served_fields())
        if problems:
            return _refused(problems)
        model_id = body["id"]
        existing = self.definitions.get((model_id, BYO))
        if existing is not None:
            reason = (
                "yaml-origin definitions cannot be overridden"
                if existing.origin == "yaml"
                else "it exists"
            )
            return _error(409, f"byo model {model_id} already exists: {reason}", "conflict_error")
        now = self.now_ms()
        definition = {
            k: copy.deepcopy(v) for k, v in body.items() if v is not None or self.store_nulls
        }
        for path, value in self.fill_defaults.items():
            _fill(definition, path.split("."), value)
        key = (model_id, BYO)
        self.definitions[key] = _Definition(model_id, BYO, "api", definition, now, now)
        # No verdict yet: the API says unknown until a probe ran (or a switch says more).
        self.health[key] = self.health_of(model_id, None) or {
            "status": "unknown",
            "is_available": True,
            "last_health_check": None,
            "error": None,
        }
        return 200, self.render(key)

    def _changeable(self, model_id: str, verb: str) -> _Definition | Reply:
        stored = self.definitions.get((model_id, BYO))
        if stored is None:
            others = [source for name, source in self.definitions if name == model_id]
            if others:
                return _error(
                    403,
                    f"model {model_id} is defined by {', '.join(others)} only: only byo "
                    f"definitions can be {verb} through the API",
                    "permission_error",
                )
            return _not_found(model_id)
        if stored.origin == "yaml":
            return _error(
                403,
                f"model {model_id} is yaml-origin: file-managed definitions cannot be "
                f"{verb} through the API",
                "permission_error",
            )
        return stored

    def _update(self, body: Any) -> Reply:
        problems = _body_problems(body, update=True, served=self.served_fields())
        if problems:
            return _refused(problems)
        found = self._changeable(body["id"], "updated")
        if not isinstance(found, _Definition):
            return found
        for key, value in body.items():
            if key == "id":
                continue
            if value is None and not self.store_nulls:
                found.definition.pop(key, None)
            else:
                found.definition[key] = copy.deepcopy(value)
        # Strictly increasing, so an update is visible even within one millisecond.
        found.updated_at = max(self.now_ms(), int(found.updated_at or 0) + 1)
        return 200, self.render((found.model_id, BYO))

    def _remove(self, model_id: str) -> Reply:
        found = self._changeable(model_id, "removed")
        if not isinstance(found, _Definition):
            return found
        del self.definitions[(model_id, BYO)]
        self.health.pop((model_id, BYO), None)
        holder = self.active.get(model_id)
        deactivated = holder is not None and holder["source"] == BYO
        if deactivated:
            del self.active[model_id]
        return 200, {"id": model_id, "deleted": True, "deactivated": deactivated}

    def _probe(self, model_id: str) -> Reply:
        key = (model_id, BYO)
        if key not in self.definitions:
            return _error(404, f"byo model {model_id} not found", "not_found_error")
        checked_at = self.now_ms()
        self.set_health(model_id, checked_at)
        health = self.health[key]
        # With status unknown no probe ran: checked_at is the answer's time.
        answer: dict[str, Any] = {
            "status": health["status"],
            "is_available": health["is_available"],
            "checked_at": checked_at,
        }
        if health["error"] is not None:
            answer["error"] = health["error"]
        return 200, answer

    # -- activation --------------------------------------------------------------------

    def _active_list(self) -> dict[str, Any]:
        keys = [key for key in self.definitions if self._serves(key)]
        return {"object": "list", "data": [self.render(key) for key in keys]}

    def _serves(self, key: tuple[str, str]) -> bool:
        holder = self.active.get(key[0])
        return holder is not None and holder["source"] == key[1]

    def _activate(self, body: Any) -> Reply:
        problems = _activation_problems(body)
        if problems:
            return _refused(problems)
        model_id, source = body["model_id"], body["source"]
        if (model_id, source) not in self.definitions:
            return _error(
                404, f"no {source} definition of {model_id} to activate", "not_found_error"
            )
        holder = self.active.get(model_id)
        if holder is not None and holder["source"] != source:
            return _error(
                409,
                f"model name {model_id} is held by source {holder['source']!r}; "
                "deactivate it first",
                "conflict_error",
            )
        if holder is None:
            holder = {"source": source, "activated_by": ACTIVATED_BY, "activated_at": iso_now()}
            self.active[model_id] = holder
        return 200, {"model_id": model_id, **holder}

    def _deactivate(self, model_id: str) -> Reply:
        # Idempotent, as the SDK says: a defined name that is not active answers false.
        if model_id not in self.active and not any(self._keys(model_id)):
            return _not_found(model_id)
        deactivated = self.active.pop(model_id, None) is not None
        return 200, {"id": model_id, "deactivated": deactivated}


def _body_problems(body: Any, *, update: bool, served: frozenset[str] = frozenset()) -> list[str]:
    """Why the catalog refuses ``body``: the SDK's checks, and keys it does not know.
    ``served`` are fields beyond the SDK's that this server's own definitions hold:
    a newer server knows them, and takes them back."""
    problems = api_problems(body, update=update, api="catalog")
    if isinstance(body, dict):
        known = set(definition_fields("catalog")) | served
        # The SDK's request models drop unknown keys: it could never send them.
        problems.extend(
            f"{key}: not a field of the catalog API's definition"
            for key in body
            if key not in known
        )
    return problems


def _activation_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the request body must be a JSON object"]
    problems = [
        f"{key}: missing required field" for key in ("source", "model_id") if key not in body
    ]
    if "model_id" in body and (not isinstance(body["model_id"], str) or not body["model_id"]):
        problems.append("model_id: expected a string")
    if "source" in body and body["source"] not in SOURCES:
        problems.append(f"source: expected one of {', '.join(SOURCES)}")
    problems.extend(
        f"{key}: not a field of the activation request"
        for key in body
        if key not in ("source", "model_id")
    )
    return problems


def _refused(problems: list[str]) -> Reply:
    return _error(400, "invalid request body: " + "; ".join(problems), "invalid_request_error")


def _not_found(model_id: str) -> Reply:
    return _error(404, f"model {model_id} not found", "not_found_error")


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _fill(target: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``keys`` in ``target`` to ``value`` unless the body has it already."""
    head, rest = keys[0], keys[1:]
    if not rest:
        target.setdefault(head, copy.deepcopy(value))
        return
    child = target.get(head)
    if isinstance(child, dict):
        _fill(child, rest, value)
