"""One dialect per API generation: which requests each client operation sends, and how
the answers are checked. :class:`~registry_sync.live.client.RegistryClient` owns the
HTTP (retries, bounds, scrubbing) and hands each operation to the dialect of the
generation the registry speaks; :func:`probe` finds that generation when nothing pins it.

* ``registry`` (SDK 0.6.40): ``/api/v1/llm/models/registry`` and ``/registry/{id}``;
  every entry is served, there is no activation.
* ``catalog`` (SDK 0.12.128): definitions under ``/api/v1/llm/models/catalog`` (the id
  in the body or the query), names activated under ``/api/v1/llm/models/registry``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from registry_sync.errors import ApiError, ConfigError, ResponseShapeError
from registry_sync.live.catalog import (
    BYO,
    parse_catalog_entry,
    parse_catalog_list,
    parse_registry_entry_response,
)
from registry_sync.live.entries import LiveEntry, parse_entry, parse_list_response
from registry_sync.schema.generations import Api
from registry_sync.schema.ids import UnaddressableId, id_query, id_segment

__all__ = [
    "API_PATH",
    "CATALOG_HEALTH_PATH",
    "CATALOG_PATH",
    "PROBE_OPERATION",
    "CatalogDialect",
    "Dialect",
    "HealthResult",
    "RegistryDialect",
    "Wire",
    "probe",
]

API_PATH = "/api/v1/llm/models/registry"
CATALOG_PATH = "/api/v1/llm/models/catalog"
CATALOG_HEALTH_PATH = f"{CATALOG_PATH}/health"
PROBE_OPERATION = "find which API the registry speaks"
_PIN_ADVICE = (
    "while finding which API generation the registry speaks (api: registry|catalog in "
    "registry-sync.yaml, or --api, pins it and skips this probe)"
)


@dataclass(frozen=True)
class HealthResult:
    """The answer of a health probe; ``checked_at`` is epoch milliseconds.

    ``status`` is the catalog generation's ``available``, ``unavailable`` or
    ``unknown`` (no verdict: ``is_available`` is then true, but the entry is neither
    healthy nor unhealthy); None in the registry generation."""

    is_available: bool
    checked_at: float
    error: str | None = None
    status: str | None = None


class Wire(Protocol):
    """What a dialect needs of the client: one request, and the scrubbing of errors."""

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        writes: bool = False,
    ) -> Any: ...

    def _scrubbing(self) -> contextlib.AbstractContextManager[None]: ...

    def list_models(self) -> list[LiveEntry]: ...


class Dialect(Protocol):
    """The operations of one generation; the client's methods of the same names."""

    api: Api

    def list_models(self) -> list[LiveEntry]: ...

    def get_model(self, model_id: str) -> LiveEntry | None: ...

    def add_model(self, definition: Mapping[str, Any]) -> LiveEntry: ...

    def update_model(self, model_id: str, fields: Mapping[str, Any]) -> LiveEntry: ...

    def remove_model(self, model_id: str) -> None: ...

    def check_health(self, model_id: str) -> HealthResult: ...

    def activate(self, model_id: str, source: str) -> None: ...

    def deactivate(self, model_id: str) -> None: ...


def _query(path: str, model_id: str) -> str:
    return path + _addressed(id_query, model_id)


def _name(definition: Mapping[str, Any]) -> str:
    model_id = definition.get("id")
    return model_id if isinstance(model_id, str) else "(no id)"


class RegistryDialect:
    """The seed's registry API: per-id paths, immutable entries, no activation."""

    api: Api = "registry"

    def __init__(self, wire: Wire) -> None:
        self._wire = wire

    def list_models(self) -> list[LiveEntry]:
        document = self._wire._call("list registry models", "GET", API_PATH)
        with self._wire._scrubbing():
            return parse_list_response(document, f"GET {API_PATH}")

    def get_model(self, model_id: str) -> LiveEntry | None:
        path = _model_path(model_id)
        try:
            document = self._wire._call(f"get registry model {model_id}", "GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        with self._wire._scrubbing():
            return _entry_for(document, model_id, f"GET {path}")

    def add_model(self, definition: Mapping[str, Any]) -> LiveEntry:
        name = _name(definition)
        document = self._wire._call(
            f"add registry model {name}", "POST", API_PATH, body=dict(definition), writes=True
        )
        with self._wire._scrubbing():
            return _entry_for(document, name, f"POST {API_PATH}")

    def update_model(self, model_id: str, fields: Mapping[str, Any]) -> LiveEntry:
        path = _model_path(model_id)
        document = self._wire._call(
            f"update registry model {model_id}", "PATCH", path, body=dict(fields), writes=True
        )
        with self._wire._scrubbing():
            return _entry_for(document, model_id, f"PATCH {path}")

    def remove_model(self, model_id: str) -> None:
        path = _model_path(model_id)
        document = self._wire._call(
            f"remove registry model {model_id}", "DELETE", path, writes=True
        )
        if not isinstance(document, dict) or document.get("deleted") is not True:
            with self._wire._scrubbing():
                raise ResponseShapeError(
                    f"DELETE {path}",
                    "deleted",
                    f'expected {{"deleted": true}}, got {shape(document)}',
                )

    def check_health(self, model_id: str) -> HealthResult:
        path = f"{_model_path(model_id)}/health"
        # A POST, but a probe changes no registry state: retrying it is as safe as a read.
        document = self._wire._call(f"check health of registry model {model_id}", "POST", path)
        with self._wire._scrubbing():
            return _health_result(document, f"POST {path}", catalog=False)

    def activate(self, model_id: str, source: str) -> None:
        raise _no_activation(f"activate registry name {model_id} from {source}")

    def deactivate(self, model_id: str) -> None:
        raise _no_activation(f"deactivate registry name {model_id}")


def _no_activation(operation: str) -> ConfigError:
    return ConfigError(
        f"{operation} failed: the registry API has no activation (every entry it holds "
        "is served); only the catalog API activates names"
    )


class CatalogDialect:
    """The catalog and activation API: definitions by ``(name, source)``, one source
    serving each name. Only byo definitions change through it."""

    api: Api = "catalog"

    def __init__(self, wire: Wire) -> None:
        self._wire = wire

    def list_models(self) -> list[LiveEntry]:
        """``GET /catalog``; a 404 there means the registry does not speak this API."""
        try:
            document = self._wire._call("list catalog definitions", "GET", CATALOG_PATH)
        except ApiError as exc:
            if exc.status != 404:
                raise
            raise ApiError(
                exc.operation,
                exc.method,
                exc.path,
                exc.status,
                f"{exc.message}; the registry does not speak the catalog API, but api: "
                "catalog is pinned: pin api: registry, or remove the pin to let "
                "registry-sync find out",
            ) from None
        with self._wire._scrubbing():
            return parse_catalog_list(document, f"GET {CATALOG_PATH}")

    def get_model(self, model_id: str) -> LiveEntry | None:
        """The catalog has no per-id GET: this reads the whole list and picks the name."""
        return next((entry for entry in self._wire.list_models() if entry.id == model_id), None)

    def add_model(self, definition: Mapping[str, Any]) -> LiveEntry:
        """``POST /catalog``: defines a byo model without activating its name."""
        name = _name(definition)
        document = self._wire._call(
            f"add catalog model {name}", "POST", CATALOG_PATH, body=dict(definition), writes=True
        )
        with self._wire._scrubbing():
            return _byo_entry_for(document, name, f"POST {CATALOG_PATH}")

    def update_model(self, model_id: str, fields: Mapping[str, Any]) -> LiveEntry:
        """``PATCH /catalog`` with ``{"id": model_id, **fields}``."""
        if fields.get("id", model_id) != model_id:
            raise ConfigError(
                f"update catalog model {model_id} failed: the fields name another id "
                f"{fields['id']!r}; an id cannot change"
            )
        document = self._wire._call(
            f"update catalog model {model_id}",
            "PATCH",
            CATALOG_PATH,
            body={"id": model_id, **fields},
            writes=True,
        )
        with self._wire._scrubbing():
            return _byo_entry_for(document, model_id, f"PATCH {CATALOG_PATH}")

    def remove_model(self, model_id: str) -> None:
        """``DELETE /catalog?id=``: answers ``{id, deleted: true, deactivated}`` (the API
        deactivates the name too when the byo definition served it)."""
        path = _query(CATALOG_PATH, model_id)
        document = self._wire._call(f"remove catalog model {model_id}", "DELETE", path, writes=True)
        with self._wire._scrubbing():
            _check_id_answer(document, f"DELETE {path}", model_id)
            if document.get("deleted") is not True:
                raise ResponseShapeError(
                    f"DELETE {path}",
                    "deleted",
                    f"expected true, got {shape(document.get('deleted'))}",
                )
            if not isinstance(document.get("deactivated"), bool):
                raise ResponseShapeError(
                    f"DELETE {path}",
                    "deactivated",
                    f"expected a boolean, got {shape(document.get('deactivated'))}",
                )

    def check_health(self, model_id: str) -> HealthResult:
        """``POST /catalog/health?id=``: probes the byo definition, active or not."""
        path = _query(CATALOG_HEALTH_PATH, model_id)
        # A POST, but a probe changes no registry state: retrying it is as safe as a read.
        document = self._wire._call(f"check health of catalog model {model_id}", "POST", path)
        with self._wire._scrubbing():
            return _health_result(document, f"POST {path}", catalog=True)

    def activate(self, model_id: str, source: str) -> None:
        """``POST /registry {source, model_id}``: idempotent for the same source; a 409
        when another source holds the name (the server's message names it)."""
        body = {"source": source, "model_id": model_id}
        document = self._wire._call(
            f"activate registry name {model_id} from {source}",
            "POST",
            API_PATH,
            body=body,
            writes=True,
        )
        with self._wire._scrubbing():
            parse_registry_entry_response(document, f"POST {API_PATH}", model_id, source)

    def deactivate(self, model_id: str) -> None:
        """``DELETE /registry?id=``: the name stops being served; definitions stay."""
        path = _query(API_PATH, model_id)
        document = self._wire._call(
            f"deactivate registry name {model_id}", "DELETE", path, writes=True
        )
        with self._wire._scrubbing():
            _check_id_answer(document, f"DELETE {path}", model_id)
            if not isinstance(document.get("deactivated"), bool):
                raise ResponseShapeError(
                    f"DELETE {path}",
                    "deactivated",
                    f"expected a boolean, got {shape(document.get('deactivated'))}",
                )


def probe(wire: Wire) -> tuple[Api, list[LiveEntry] | None]:
    """Which generation the registry speaks, with one read and never a write.

    ``GET /catalog``: a 200 with a valid catalog list is the catalog generation, and
    that list is returned so the caller needs no second request; a 404 is the registry
    generation (None: nothing listed yet). Anything else — no answer, a timeout, 401 or
    403, a 5xx after retries, a 200 of another shape — is an error saying so, never a
    guess."""
    try:
        document = wire._call(PROBE_OPERATION, "GET", CATALOG_PATH)
    except ResponseShapeError as exc:  # not JSON, or too large
        raise ResponseShapeError(exc.origin, exc.where, f"{exc.what}; {_PIN_ADVICE}") from None
    except ApiError as exc:
        if exc.status == 404:
            return "registry", None
        if exc.hint:  # a refused key: pinning the generation would not help
            raise
        message = f"{exc.message}; {_PIN_ADVICE}" if exc.message else _PIN_ADVICE
        raise ApiError(exc.operation, exc.method, exc.path, exc.status, message) from None
    with wire._scrubbing():
        try:
            entries = parse_catalog_list(document, f"GET {CATALOG_PATH}")
        except ResponseShapeError as exc:
            raise ResponseShapeError(exc.origin, exc.where, f"{exc.what}; {_PIN_ADVICE}") from None
    return "catalog", entries


def _model_path(model_id: str) -> str:
    return f"{API_PATH}/{_addressed(id_segment, model_id)}"


def _addressed(encode: Callable[[str], str], model_id: str) -> str:
    """``model_id`` encoded for a URL; an id no request can carry safely (``.``,
    ``..``, a control character) is refused before any request is built."""
    try:
        return encode(model_id)
    except UnaddressableId as exc:
        raise ConfigError(f"{exc}; nothing was sent") from None


def _entry_for(document: Any, model_id: str, origin: str) -> LiveEntry:
    entry = parse_entry(document, origin)
    if entry.id != model_id:
        raise ResponseShapeError(origin, "id", f"expected {model_id!r}, got {entry.id!r}")
    return entry


def _byo_entry_for(document: Any, model_id: str, origin: str) -> LiveEntry:
    entry = parse_catalog_entry(document, origin)
    if entry.id != model_id:
        raise ResponseShapeError(origin, "model_id", f"expected {model_id!r}, got {entry.id!r}")
    if entry.source != BYO:
        raise ResponseShapeError(origin, "source", f"expected 'byo', got {entry.source!r}")
    return entry


def _check_id_answer(document: Any, origin: str, model_id: str) -> None:
    if not isinstance(document, dict):
        raise ResponseShapeError(origin, "", f"expected a JSON object, got {shape(document)}")
    answered = document.get("id")
    if answered != model_id:
        shown = repr(answered) if isinstance(answered, str) else shape(answered)
        raise ResponseShapeError(origin, "id", f"expected {model_id!r}, got {shown}")


def _health_result(document: Any, origin: str, *, catalog: bool) -> HealthResult:
    if not isinstance(document, dict):
        raise ResponseShapeError(origin, "", f"expected a JSON object, got {shape(document)}")
    status = document.get("status")
    if catalog and not isinstance(status, str):
        raise ResponseShapeError(origin, "status", f"expected a string, got {shape(status)}")
    available = document.get("is_available")
    if not isinstance(available, bool):
        raise ResponseShapeError(
            origin, "is_available", f"expected a boolean, got {shape(available)}"
        )
    checked_at = document.get("checked_at")
    if isinstance(checked_at, bool) or not isinstance(checked_at, (int, float)):
        raise ResponseShapeError(
            origin, "checked_at", f"expected epoch milliseconds, got {shape(checked_at)}"
        )
    error = document.get("error")
    if error is not None and not isinstance(error, str):
        raise ResponseShapeError(origin, "error", f"expected a string, got {shape(error)}")
    return HealthResult(
        is_available=available,
        checked_at=checked_at,
        error=error,
        status=status if catalog else None,
    )


def shape(value: Any) -> str:
    """The JSON type of a value, never the value: a bad answer may still carry a secret."""
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:8])
        return f"an object with keys [{keys}]"
    names = {type(None): "null", bool: "a boolean", str: "a string", list: "a list"}
    return names.get(type(value), "a number")
