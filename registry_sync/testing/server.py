"""A local MKA1 model registry over real HTTP, for tests, demos and benchmarks.

It serves either API generation on 127.0.0.1 from a background thread (``api``):
the six registry endpoints of the seed, or the catalog and activation endpoints
(:mod:`registry_sync.testing.catalog`); the other generation's paths answer 404, as
a real registry of that generation does. It follows the API reference
(``shared/mka1-registry-api.md``): bearer auth, immutable entries that refuse writes,
top-level PATCH merge, RegistryModel responses. Add and
update bodies are checked as the API checks them (:func:`api_problems`, derived from
the same models as ``validate``): a refused body is a 400 naming the field. A PATCH
null clears a nullable field (``store_nulls`` keeps the null instead, as a server
may); ``fill_defaults`` fills fields an add omits, as a server may. Faults
(429, 5xx, malformed bodies, dropped connections) and latency can be switched on
while it runs, and every request is recorded so tests can assert what was sent.

Error bodies always have one shape: ``{"error": {"message": str, "type": str}}``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from registry_sync.live.entries import parse_list_response
from registry_sync.schema.definition import api_problems
from registry_sync.schema.generations import Api, check_api
from registry_sync.testing.catalog import MODELS_PREFIX, CatalogStore
from registry_sync.testing.factories import list_response, registry_model
from registry_sync.testing.ratelimit import TokenBucket

__all__ = [
    "API_PREFIX",
    "CLUSTER_SEGMENT",
    "DEFAULT_UNHEALTHY_ERROR",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "RegistryServer",
    "StoreRules",
]

API_PREFIX = "/api/v1/llm/models/registry"
# The API serves cluster endpoints below the registry path: never a model id.
CLUSTER_SEGMENT = "cluster"

FaultKind = Literal["rate-limit", "status", "malformed", "drop"]
_FAULT_KINDS: frozenset[str] = frozenset({"rate-limit", "status", "malformed", "drop"})
_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)
# What the probe of an id made unhealthy answers unless told otherwise.
DEFAULT_UNHEALTHY_ERROR = "upstream unreachable: connection refused"


@dataclass(frozen=True)
class Fault:
    """A fault answered instead of the real response for the next ``times`` matching requests.

    Kinds: ``rate-limit`` (429, with ``Retry-After: retry_after`` unless that is None),
    ``status`` (``status``, an error status such as 500, 502, 503 or 504, with ``body``
    or else a JSON error naming the status), ``malformed`` (200 with ``body``, which
    may be non-JSON or JSON of the wrong shape; an HTML page by default) and ``drop``
    (the connection is closed without any response).

    A request matches when ``method`` is None or equal, and ``path_contains`` is None
    or found in the raw or percent-decoded path. With ``every`` N, only every Nth
    matching request is answered with the fault (the Nth, 2Nth, ...); ``times`` None
    keeps the fault armed for good. Faults are checked before auth, as a
    gateway in front of the registry would. With ``after_apply`` the request is
    carried out first and the fault replaces its response: the write has landed but
    the client cannot know.
    """

    kind: FaultKind
    method: str | None = None
    path_contains: str | None = None
    times: int | None = 1
    status: int = 503
    retry_after: str | None = "1"
    body: str | None = None
    after_apply: bool = False
    every: int = 1

    def __post_init__(self) -> None:
        if self.kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("a fault must apply at least once")
        if self.every < 1:
            raise ValueError("a fault must apply to every 1st request or rarer")
        if self.kind == "status" and (
            self.status not in _KNOWN_STATUSES or not 400 <= self.status <= 599
        ):
            raise ValueError(f"a status fault needs a known error status, got {self.status}")
        if self.kind == "rate-limit" and self.after_apply:
            raise ValueError("a rate-limited request is never carried out")

    def matches(self, method: str, raw_path: str, path: str) -> bool:
        """True when this fault applies to a request."""
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path_contains is None:
            return True
        return self.path_contains in raw_path or self.path_contains in path


@dataclass
class _ArmedFault:
    fault: Fault
    remaining: int | None
    seen: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``path`` is percent-decoded, ``raw_path`` is as sent, ``raw_query`` the query
    string as sent (without ``?``). ``body`` is the parsed JSON, the raw text when it
    was not JSON, or None when empty. Header names are lower case.
    """

    method: str
    path: str
    raw_path: str
    body: Any
    headers: Mapping[str, str]
    raw_query: str = ""


@dataclass(frozen=True)
class StoreRules:
    """How writes are stored, where servers may differ: ``store_nulls`` keeps the null
    a PATCH sends instead of removing the field; ``fill_defaults`` maps field paths
    (dotted for nested fields, e.g. ``capabilities.supportsTopP``) to values an add
    fills in when the body omits them."""

    store_nulls: bool = False
    fill_defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: Any = None
    raw: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.payload).encode()


def _error(status: int, message: str, kind: str) -> _Reply:
    return _Reply(status, {"error": {"message": message, "type": kind}})


def _now_ms() -> int:
    return int(time.time() * 1000)


class RegistryServer:
    """A registry on ``http://127.0.0.1:<port>`` served from a background thread.

    ``api`` is the generation it speaks: ``registry`` (the default) or ``catalog``.
    ``seed`` is a list response document of that generation as a mapping or a path to
    a JSON file: ``{"object": "list", "data": [RegistryModel, ...]}``, or for the
    catalog ``{"object": "list", "currency", "data": [CatalogEntry, ...]}``. Requests
    need ``Authorization: Bearer <api_key>``; ``non_admin_key`` is a key that
    authenticates but lacks the admin scope (403). ``latency`` is seconds added to every
    request. ``rate_limit`` (requests per second, a :class:`TokenBucket`) answers
    requests beyond it with 429 and a ``Retry-After``, at once and before faults and
    auth, as a gateway would; the bucket's ``refused`` counts them. ``log`` receives
    one line per request.
    ``store`` says how writes are stored (:class:`StoreRules`: nulls kept, defaults
    filled). ``unhealthy`` maps model ids to the error their health probe answers (see
    :meth:`set_unhealthy`; :meth:`set_unknown` makes a catalog probe answer
    ``unknown``); the list's ``health`` of such an entry says so too. It names ids,
    not entries: an id made unhealthy stays so when deleted and re-created.
    All switches are safe to change while requests are in flight.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        seed: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        api_key: str = "test-key",
        non_admin_key: str | None = None,
        port: int = 0,
        latency: float = 0.0,
        log: Callable[[str], None] | None = None,
        store: StoreRules | None = None,
        rate_limit: float | None = None,
        unhealthy: Mapping[str, str] | None = None,
        api: Api = "registry",
    ) -> None:
        store = store or StoreRules()
        self.api: Api = check_api(api)
        self.api_key = api_key
        self.store_nulls = store.store_nulls
        self.fill_defaults = dict(store.fill_defaults)
        self.non_admin_key = non_admin_key
        self._port = port
        self._log = log
        self._lock = threading.Lock()
        self._latency = latency
        self._faults: list[_ArmedFault] = []
        self.bucket = None if rate_limit is None else TokenBucket(rate_limit)
        self._requests: list[RecordedRequest] = []
        self._unhealthy: dict[str, str] = {}
        self._unknown: set[str] = set()
        self._catalog = CatalogStore(
            self._catalog_health_of,
            _now_ms,
            store_nulls=self.store_nulls,
            fill_defaults=self.fill_defaults,
        )
        if self.api == "catalog":
            self._entries: dict[str, dict[str, Any]] = {}
            _seed_catalog(self._catalog, seed)
        else:
            self._entries = _load_seed(seed)
        for model_id, error in (unhealthy or {}).items():
            self.set_unhealthy(model_id, error)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> RegistryServer:
        """Bind 127.0.0.1 (the given port, or a free one) and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the registry server is already running")
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.registry = self
        self._httpd = httpd
        # A short poll interval keeps stop() fast; tests start and stop many servers.
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.005},
            name=f"registry-server-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection; calling it twice is harmless."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._httpd = self._thread = None
        httpd.shutdown()
        httpd.server_close()
        # Keep-alive connections would otherwise go on being served by their threads.
        httpd.close_connections()
        thread.join()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``, to give to the client."""
        if self._httpd is None:
            raise RuntimeError("the registry server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- switches and observations ---------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds each request waits before it is answered."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = seconds

    def inject(self, fault: Fault) -> None:
        """Answer the next ``fault.times`` matching requests (or every ``fault.every``-th
        of them) with ``fault``.

        Faults are tried in the order injected; the first that matches is used.
        """
        with self._lock:
            self._faults.append(_ArmedFault(fault, fault.times))

    def set_unhealthy(self, model_id: str, error: str | None = DEFAULT_UNHEALTHY_ERROR) -> None:
        """Make ``model_id``'s health probe answer unavailable with ``error`` (None: make
        it healthy again). The entry's ``health`` in the list follows at once."""
        with self._lock:
            if error is None:
                self._unhealthy.pop(model_id, None)
            else:
                self._unhealthy[model_id] = error
            self._refresh_health(model_id)

    def set_unknown(self, model_id: str, unknown: bool = True) -> None:
        """Make ``model_id``'s catalog health probe answer ``unknown`` (no verdict, as
        for a definition without a health check); False undoes it. An unhealthy switch
        on the same id wins. The list's ``health`` follows at once."""
        with self._lock:
            if unknown:
                self._unknown.add(model_id)
            else:
                self._unknown.discard(model_id)
            self._refresh_health(model_id)

    def _refresh_health(self, model_id: str) -> None:
        if self.api == "catalog":
            self._catalog.set_health(model_id, _now_ms())
            return
        entry = self._entries.get(model_id)
        if entry is not None:
            entry["health"] = self._health_of(model_id, _now_ms())

    @property
    def unhealthy(self) -> dict[str, str]:
        """The ids made unhealthy, each with the error its probe answers."""
        with self._lock:
            return dict(self._unhealthy)

    def clear_faults(self) -> None:
        """Forget every fault not yet used up."""
        with self._lock:
            self._faults.clear()

    def requests(self, method: str | None = None) -> list[RecordedRequest]:
        """Every request received so far, oldest first, optionally of one method."""
        with self._lock:
            recorded = list(self._requests)
        if method is None:
            return recorded
        return [request for request in recorded if request.method == method.upper()]

    @property
    def connection_count(self) -> int:
        """How many connections clients have opened to this server so far."""
        if self._httpd is None:
            raise RuntimeError("the registry server is not running")
        return self._httpd.accepted

    @property
    def request_count(self) -> int:
        """How many requests have been received, faulted and unauthorised ones included."""
        with self._lock:
            return len(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests, e.g. after a test's setup."""
        with self._lock:
            self._requests.clear()

    def entries(self) -> dict[str, dict[str, Any]]:
        """A copy of the current state: RegistryModel objects by id, in insertion order
        (registry mode; in catalog mode see :meth:`catalog` and :meth:`active`)."""
        if self.api == "catalog":
            raise RuntimeError("a catalog-mode server holds definitions: use catalog()")
        with self._lock:
            return copy.deepcopy(self._entries)

    def catalog(self) -> dict[str, Any]:
        """Catalog mode: the whole catalog now, as ``GET /catalog`` answers it."""
        with self._lock:
            return self._catalog.document()

    def active(self) -> dict[str, str]:
        """Catalog mode: each active name with the source serving it."""
        with self._lock:
            return {name: holder["source"] for name, holder in self._catalog.active.items()}

    @property
    def entry_count(self) -> int:
        """How many entries (registry mode) or definitions (catalog mode) it holds."""
        with self._lock:
            return len(self._catalog.definitions if self.api == "catalog" else self._entries)

    # -- request handling (called from handler threads) ------------------------

    def _respond(
        self, method: str, raw_target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> _Reply:
        target = urlsplit(raw_target)
        raw_path = target.path
        path = unquote(raw_path)
        body, is_json = _decode_body(raw_body)
        with self._lock:
            self._requests.append(
                RecordedRequest(method, path, raw_path, body, headers, target.query)
            )
            bucket = self.bucket
        retry_after = None if bucket is None else bucket.take()
        if retry_after is not None:
            return _fault_reply(Fault("rate-limit", retry_after=retry_after))
        with self._lock:
            fault = self._take_fault(method, raw_path, path)
            latency = self._latency
        if latency > 0:
            time.sleep(latency)
        if fault is not None and not fault.after_apply:
            return _fault_reply(fault)
        reply = self._authorised(headers.get("authorization")) or (
            self._route_catalog(method, raw_path, target.query, body, is_json)
            if self.api == "catalog"
            else self._route(method, raw_path, body, is_json)
        )
        return _fault_reply(fault) if fault is not None else reply

    def _take_fault(self, method: str, raw_path: str, path: str) -> Fault | None:
        for armed in self._faults:
            if armed.fault.matches(method, raw_path, path):
                armed.seen += 1
                if armed.seen % armed.fault.every:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._faults.remove(armed)
                return armed.fault
        return None

    def _authorised(self, authorization: str | None) -> _Reply | None:
        if authorization == f"Bearer {self.api_key}":
            return None
        if self.non_admin_key is not None and authorization == f"Bearer {self.non_admin_key}":
            return _error(403, "this API key lacks the admin scope", "permission_error")
        return _error(401, "invalid or missing API key", "authentication_error")

    def _route(self, method: str, raw_path: str, body: Any, is_json: bool) -> _Reply:
        if raw_path.rstrip("/") == API_PREFIX:
            segments: list[str] = []
        elif raw_path.startswith(API_PREFIX + "/"):
            # Split before decoding: an encoded "/" belongs to the id.
            segments = [unquote(part) for part in raw_path[len(API_PREFIX) + 1 :].split("/")]
        else:
            return _error(404, f"no route for {unquote(raw_path)}", "not_found_error")
        if segments and segments[0] == CLUSTER_SEGMENT:
            return _error(
                404,
                f"{unquote(raw_path)}: the API's cluster endpoints live here, not a model id; "
                "this local registry does not serve them",
                "not_found_error",
            )
        if not is_json:
            return _error(400, "the request body is not valid JSON", "invalid_request_error")
        with self._lock:
            if not segments:
                if method == "GET":
                    return self._list()
                if method == "POST":
                    return self._add(body)
            elif len(segments) == 1 and segments[0]:
                handler = {"GET": self._get, "PATCH": self._update, "DELETE": self._remove}
                if method in handler:
                    return handler[method](segments[0], body)
            elif len(segments) == 2 and segments[1] == "health" and segments[0]:
                if method == "POST":
                    return self._health(segments[0])
            else:
                return _error(404, f"no route for {unquote(raw_path)}", "not_found_error")
        return _error(405, f"{method} is not allowed here", "invalid_request_error")

    def _route_catalog(
        self, method: str, raw_path: str, raw_query: str, body: Any, is_json: bool
    ) -> _Reply:
        if not raw_path.startswith(MODELS_PREFIX + "/"):
            return _error(404, f"no route for {unquote(raw_path)}", "not_found_error")
        if not is_json:
            return _error(400, "the request body is not valid JSON", "invalid_request_error")
        with self._lock:
            found = self._catalog.route(method, raw_path, raw_query, body)
        if found is None:
            # The registry generation's per-id paths among them: gone in this one.
            return _error(404, f"no route for {unquote(raw_path)}", "not_found_error")
        return _Reply(*found)

    # The handlers below run with self._lock held.

    def _list(self) -> _Reply:
        return _Reply(200, list_response(self._entries.values()))

    def _get(self, model_id: str, _body: Any) -> _Reply:
        entry = self._entries.get(model_id)
        if entry is None:
            return _not_found(model_id)
        return _Reply(200, copy.deepcopy(entry))

    def _add(self, body: Any) -> _Reply:
        problems = api_problems(body, update=False)
        if problems:
            return _refused(problems)
        model_id = body["id"]
        existing = self._entries.get(model_id)
        if existing is not None:
            reason = "YAML models cannot be overridden" if existing["immutable"] else "it exists"
            return _error(409, f"model {model_id} already exists: {reason}", "conflict_error")
        now = _now_ms()
        definition = {
            k: copy.deepcopy(v) for k, v in body.items() if v is not None or self.store_nulls
        }
        for path, value in self.fill_defaults.items():
            _fill(definition, path.split("."), value)
        entry = registry_model(definition, created_at=now, updated_at=now)
        if model_id in self._unhealthy:
            entry["health"] = self._health_of(model_id, None)
        self._entries[model_id] = entry
        return _Reply(200, copy.deepcopy(entry))

    def _update(self, model_id: str, body: Any) -> _Reply:
        entry = self._entries.get(model_id)
        if entry is None:
            return _not_found(model_id)
        if entry["immutable"]:
            return _error(403, f"YAML models cannot be updated: {model_id}", "permission_error")
        problems = api_problems(body, update=True)
        if problems:
            return _refused(problems)
        definition = dict(entry["definition"])
        for key, value in body.items():
            if value is None and not self.store_nulls:
                definition.pop(key, None)
            else:
                definition[key] = value
        # Strictly increasing, so an update is visible even within one millisecond.
        updated_at = max(_now_ms(), (entry["updated_at"] or 0) + 1)
        self._entries[model_id] = registry_model(
            definition,
            immutable=entry["immutable"],
            source=entry["source"],
            created_at=entry["created_at"],
            updated_at=updated_at,
            health=entry["health"],
        )
        return _Reply(200, copy.deepcopy(self._entries[model_id]))

    def _remove(self, model_id: str, _body: Any) -> _Reply:
        entry = self._entries.get(model_id)
        if entry is None:
            return _not_found(model_id)
        if entry["immutable"]:
            return _error(403, f"YAML models cannot be removed: {model_id}", "permission_error")
        del self._entries[model_id]
        return _Reply(200, {"deleted": True})

    def _health(self, model_id: str) -> _Reply:
        entry = self._entries.get(model_id)
        if entry is None:
            return _not_found(model_id)
        checked_at = _now_ms()
        entry["health"] = health = self._health_of(model_id, checked_at)
        # The API's HealthCheckResponse: error only when there is one.
        answer: dict[str, Any] = {"is_available": health["is_available"], "checked_at": checked_at}
        if health["error"] is not None:
            answer["error"] = health["error"]
        return _Reply(200, answer)

    def _health_of(self, model_id: str, checked_at: int | None) -> dict[str, Any]:
        """The list's ``health`` object for ``model_id`` as the switch has it."""
        error = self._unhealthy.get(model_id)
        return {"is_available": error is None, "last_health_check": checked_at, "error": error}

    def _catalog_health_of(self, model_id: str, checked_at: int | None) -> dict[str, Any] | None:
        """Catalog mode: the ``health`` (with ``status``) the switches give ``model_id``;
        None when no switch names it."""
        error = self._unhealthy.get(model_id)
        if error is not None:
            return {
                "status": "unavailable",
                "is_available": False,
                "last_health_check": checked_at,
                "error": error,
            }
        if model_id in self._unknown:
            return {
                "status": "unknown",
                "is_available": True,
                "last_health_check": None,
                "error": None,
            }
        return None


def _refused(problems: list[str]) -> _Reply:
    return _error(400, "invalid request body: " + "; ".join(problems), "invalid_request_error")


def _fill(target: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``keys`` in ``target`` to ``value`` unless the body has it already."""
    head, rest = keys[0], keys[1:]
    if not rest:
        target.setdefault(head, copy.deepcopy(value))
        return
    child = target.get(head)
    if isinstance(child, dict):
        _fill(child, rest, value)


def _not_found(model_id: str) -> _Reply:
    return _error(404, f"model {model_id} not found", "not_found_error")


def _fault_reply(fault: Fault) -> _Reply:
    if fault.kind == "drop":
        return _Reply(0, drop=True)
    if fault.kind == "malformed":
        body = "<html><body>upstream hiccup</body></html>" if fault.body is None else fault.body
        return _Reply(200, raw=body.encode())
    if fault.kind == "rate-limit":
        headers = () if fault.retry_after is None else (("Retry-After", fault.retry_after),)
        return _Reply(
            429,
            {"error": {"message": "rate limit exceeded", "type": "rate_limit_error"}},
            headers=headers,
        )
    if fault.body is not None:
        return _Reply(fault.status, raw=fault.body.encode())
    return _error(fault.status, HTTPStatus(fault.status).phrase, "server_error")


def _decode_body(raw: bytes) -> tuple[Any, bool]:
    """The parsed body and whether it was JSON; an empty body is None and counts as JSON."""
    if not raw:
        return None, True
    try:
        return json.loads(raw), True
    except ValueError:
        return raw.decode("utf-8", "replace"), False


def _load_seed(
    seed: Mapping[str, Any] | str | os.PathLike[str] | None,
) -> dict[str, dict[str, Any]]:
    """Seed entries by id, completed so every response is a full RegistryModel."""
    if seed is None:
        return {}
    if isinstance(seed, Mapping):
        document: Any = copy.deepcopy(dict(seed))
        origin = "the seed document"
    else:
        with open(seed, encoding="utf-8") as handle:
            document = json.load(handle)
        origin = os.fspath(seed)
    # The same checks the tool applies to a real registry, so a bad seed fails loudly.
    parse_list_response(document, origin)
    entries: dict[str, dict[str, Any]] = {}
    for item in document["data"]:
        definition = {"id": item["id"], **item["definition"]}
        definition.setdefault("provider", item.get("provider", ""))
        definition.setdefault("modelId", item.get("model_id", ""))
        entries[item["id"]] = registry_model(
            definition,
            immutable=item["immutable"],
            source=item["source"],
            created_at=item.get("created_at"),
            updated_at=item.get("updated_at"),
            # A missing or empty health is completed as never checked.
            health=item.get("health") or None,
        )
    return entries


def _seed_catalog(
    store: CatalogStore, seed: Mapping[str, Any] | str | os.PathLike[str] | None
) -> None:
    if seed is None:
        return
    if isinstance(seed, Mapping):
        store.seed(copy.deepcopy(dict(seed)), "the seed document")
        return
    with open(seed, encoding="utf-8") as handle:
        store.seed(json.load(handle), os.fspath(seed))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connects from parallel clients: a 1 s SYN retry each.
    request_queue_size = 128
    registry: RegistryServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.accepted = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            # OSError: the client closed it first.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (or a stop() mid-request) is normal here, not a bug.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive: the client reuses connections as it would with the real API.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # would hold the body back ~40 ms per request.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Read the whole body even when refusing the request, or keep-alive desyncs.
        raw_body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        registry = self.server.registry
        reply = registry._respond(self.command, self.path, headers, raw_body)
        if registry._log is not None:
            outcome = "dropped" if reply.drop else str(reply.status)
            registry._log(f"{self.command} {unquote(self.path)} -> {outcome}")
        if reply.drop:
            self.close_connection = True
            return
        body = reply.encoded()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the server logs through its own ``log`` callback."""
