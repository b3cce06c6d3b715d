"""The registry client: the only module that speaks HTTP.

Every failure leaves as one of our errors (:class:`TransportError`, :class:`ApiError`,
:class:`ResponseShapeError`); httpx types never reach the caller. A response of the
wrong shape is an error, never an empty registry. The API key appears in no message
and no repr.

Retries follow the official SDK's backoff (0.5 s initial, factor 1.5, 5 s max, 15 s
in total). Reads are retried on 429, 5xx gateway errors and any transport failure.
Writes are retried only when they cannot have landed (429, 503, or no connection
made): a write whose fate is unknown is reported, and the applier reconciles.

Bounds: a :class:`NetworkDeadline` caps the time a command spends on the network in
total (``--timeout``), checked between the chunks of every body, so a server that
trickles bytes cannot hold it; a body larger than ``max_response_bytes`` is refused
as it arrives. Every message built from what the server sent is scrubbed of the key,
its base64 forms and any 8-character piece of either.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email.utils
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

import httpx

from registry_sync._version import __version__
from registry_sync.errors import ApiError, ConfigError, ResponseShapeError, TransportError
from registry_sync.gcpause import gc_paused
from registry_sync.live.advice import Advice
from registry_sync.live.dialects import (
    API_PATH,
    CatalogDialect,
    Dialect,
    HealthResult,
    RegistryDialect,
    probe,
)
from registry_sync.live.entries import LiveEntry, one_line
from registry_sync.live.network import NetworkDeadline, RetryPolicy
from registry_sync.schema.generations import Api, check_api
from registry_sync.settings.defaults import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT

__all__ = [
    "API_PATH",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Gate",
    "HealthResult",
    "NetworkDeadline",
    "RegistryClient",
    "RetryPolicy",
]

# A piece of the key this long, found in server text, is hidden too.
_FRAGMENT = 8

# Statuses worth another try: the gateway refused or failed before (or instead of)
# doing the work. For writes only those that guarantee nothing was done.
_READ_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_WRITE_RETRY_STATUSES = frozenset({429, 503})
# Failures raised before any byte of the request left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MESSAGE_LIMIT = 300


# Loading the CA bundle costs tens of milliseconds per client; one context serves all.
_tls_context = functools.cache(httpx.create_ssl_context)


def _user_agent() -> str:
    return f"registry-sync/{__version__}"


class _DeadlinePassed(Exception):
    pass


class _TooLarge(Exception):
    pass


class Gate(Protocol):
    """What :meth:`RegistryClient.paced` sends through (``registry_sync.live.pacing.Pacer``)."""

    def enter(self) -> float:
        """Block until a request may be sent; returns its start time."""

    def leave(self, started: float, *, throttled: bool) -> None:
        """The request started at ``started`` was answered (``throttled``: with 429)."""


class RegistryClient:
    """A client of one MKA1 model registry, safe to share between threads.

    ``base_url`` is the API's root (``https://apigw.mka1.com``). ``sleep`` is called
    for every retry wait; tests pass one that records instead of sleeping.
    ``connections`` is how many connections the pool keeps alive: the number of
    threads that send through the client at once.

    ``api`` is the API generation the registry speaks (``registry`` or ``catalog``),
    each spoken by its dialect (:mod:`registry_sync.live.dialects`); the methods have
    the same names for both. When ``api`` is None the client finds it on first need
    (:attr:`api`) with a probe that costs at most one extra request and never writes:

    * ``GET /api/v1/llm/models/catalog`` first. A 200 with a valid catalog list is the
      catalog generation, and that answer *is* the list: the :meth:`list_models` that
      follows sends nothing more.
    * A 404 there is the registry generation (which then lists ``GET /registry``).
    * Anything else is an error, never a guess: no connection, a timeout, 401 or 403,
      a 5xx after the retries, or a 200 that is not a catalog list. Its message says
      that ``api:`` in ``registry-sync.yaml`` (or ``--api``) pins the generation.

    Pinned to ``catalog``, a 404 on ``/catalog`` is an error saying the registry does
    not speak that API; pinned to ``registry``, nothing is probed.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        on_behalf_of: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        deadline: NetworkDeadline | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        connections: int = 20,
        api: Api | None = None,
    ) -> None:
        if not _header_safe(api_key):
            raise ConfigError(
                "the MKA1 API key is empty or has characters a header cannot carry; "
                "check MKA1_API_KEY"
            )
        if on_behalf_of is not None and not _header_safe(on_behalf_of):
            raise ConfigError(
                f"the on-behalf-of user id {on_behalf_of!r} is empty or has characters "
                "a header cannot carry"
            )
        self.base_url = _checked_base_url(base_url)
        # What an error reaching the registry adds: the settings' names for the URL
        # and the key (the caller that knows them sets it: live.sources.open_client).
        self.advice = Advice()
        self._api_key = api_key
        self._hidden = _hidden_forms(api_key)
        self._width = min(_FRAGMENT, len(api_key))
        self._retry = retry
        self._sleep = sleep
        self._timeout = timeout
        self._deadline = deadline if deadline is not None else NetworkDeadline()
        self._max_response_bytes = max_response_bytes
        self._gate: Gate | None = None
        self._api: Api | None = None if api is None else check_api(api)
        self._probe_lock = threading.Lock()
        self._probed: list[LiveEntry] | None = None
        self._dialects: dict[Api, Dialect] = {
            "registry": RegistryDialect(self),
            "catalog": CatalogDialect(self),
        }
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": _user_agent(),
        }
        if on_behalf_of is not None:
            headers["X-On-Behalf-Of"] = on_behalf_of
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            verify=_tls_context(),
            # As many kept-alive connections as threads send through this client:
            # fewer, and parallel requests keep opening (and closing) new ones.
            limits=httpx.Limits(
                max_connections=max(100, connections), max_keepalive_connections=connections
            ),
        )

    def __repr__(self) -> str:
        return f"RegistryClient(base_url={self.base_url!r})"

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; calling it twice is harmless."""
        self._http.close()

    @contextlib.contextmanager
    def paced(self, gate: Gate) -> Iterator[None]:
        """Send every request (retries included) through ``gate`` inside this block."""
        self._gate = gate
        try:
            yield
        finally:
            self._gate = None

    # -- the registry operations ------------------------------------------------

    @property
    def api(self) -> Api:
        """The API generation this client speaks: the one pinned, else the one
        :func:`~registry_sync.live.dialects.probe` finds on first need (one ``GET
        /catalog``; its list is kept for the :meth:`list_models` that follows)."""
        if self._api is None:
            with self._probe_lock:
                if self._api is None:
                    api, probed = probe(self)
                    self._probed = probed
                    self._api = api
        return self._api

    def _dialect(self) -> Dialect:
        return self._dialects[self.api]

    def list_models(self) -> list[LiveEntry]:
        """Every live entry, read-only ones included, in the server's order (in the
        catalog generation: one per name, grouped from its definitions)."""
        with gc_paused():  # thousands of entries, all kept: collecting finds nothing
            dialect = self._dialect()
            with self._probe_lock:
                probed, self._probed = self._probed, None
            entries = probed if probed is not None else dialect.list_models()
        return [self._scrubbed(entry) for entry in entries]

    def get_model(self, model_id: str) -> LiveEntry | None:
        """The entry ``model_id``, or None when the registry has none. The catalog has
        no per-id GET: there it reads the whole list and picks the name."""
        entry = self._dialect().get_model(model_id)
        return None if entry is None else self._scrubbed(entry)

    def add_model(self, definition: Mapping[str, Any]) -> LiveEntry:
        """Create an entry from a full definition; returns the stored entry. In the
        catalog generation this defines a byo model without activating its name."""
        return self._scrubbed(self._dialect().add_model(definition))

    def update_model(self, model_id: str, fields: Mapping[str, Any]) -> LiveEntry:
        """Set the given top-level fields of ``model_id``; omitted fields keep their
        value, a null clears a nullable one. In the catalog generation the body also
        carries ``id`` (and only a byo definition can change)."""
        return self._scrubbed(self._dialect().update_model(model_id, fields))

    def remove_model(self, model_id: str) -> None:
        """Delete ``model_id``; returns only once the server confirmed the deletion. In
        the catalog generation: the byo definition, and its activation if it served."""
        self._dialect().remove_model(model_id)

    def check_health(self, model_id: str) -> HealthResult:
        """Ask the registry to probe ``model_id`` now."""
        result = self._dialect().check_health(model_id)
        if result.error is None:
            return result
        return dataclasses.replace(result, error=self._scrub(one_line(result.error)))

    def activate(self, model_id: str, source: str) -> None:
        """Serve ``model_id`` from ``source`` (catalog generation only; idempotent for
        the source already serving it). Another source holding the name is an
        :class:`ApiError` (409) whose message names it when the server does; the
        registry generation raises :class:`ConfigError`: it has no activation."""
        self._dialect().activate(model_id, source)

    def deactivate(self, model_id: str) -> None:
        """Stop serving ``model_id``, keeping every definition of it (catalog generation
        only; the registry generation raises :class:`ConfigError`)."""
        self._dialect().deactivate(model_id)

    def _scrubbed(self, entry: LiveEntry) -> LiveEntry:
        # A health error is the server's text: scrubbed like every other.
        if entry.health is None or entry.health.error is None:
            return entry
        return dataclasses.replace(
            entry, health=dataclasses.replace(entry.health, error=self._scrub(entry.health.error))
        )

    # -- HTTP, retries and error translation -------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        writes: bool = False,
    ) -> Any:
        """Send one request, retrying as the policy allows; returns the parsed JSON body."""
        # Any other request makes the probe's list stale: list_models reads afresh.
        self._probed = None
        response = self._send(operation, method, path, body, writes)
        try:
            return json.loads(response.content)
        except RecursionError:
            raise ResponseShapeError(
                f"{method} {path}", "", "the JSON body is nested too deeply to be a registry answer"
            ) from None
        except ValueError as exc:
            content_type = response.headers.get("content-type", "none")
            raise ResponseShapeError(
                f"{method} {path}",
                "",
                f"the body is not JSON (content-type {self._scrub(content_type)}, "
                f"{len(response.content)} bytes)",
            ) from exc

    def _send(
        self, operation: str, method: str, path: str, body: dict[str, Any] | None, writes: bool
    ) -> httpx.Response:
        policy = self._retry
        retry_statuses = _WRITE_RETRY_STATUSES if writes else _READ_RETRY_STATUSES
        started = time.monotonic()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            cause: httpx.HTTPError | None = None
            if self._deadline.remaining() <= 0:
                raise self._deadline_error(operation, method, path, attempt - 1)
            gate = self._gate
            sent_at = gate.enter() if gate is not None else 0.0
            throttled = False
            try:
                response = self._request(method, path, body)
                throttled = response.status_code == 429
            except _DeadlinePassed:
                raise self._deadline_error(operation, method, path, attempt) from None
            except _TooLarge:
                raise ResponseShapeError(
                    f"{method} {path}",
                    "",
                    f"the body is larger than {self._max_response_bytes // (1024 * 1024)} MB "
                    "(--max-response-mb)",
                ) from None
            except httpx.HTTPError as exc:
                cause = exc
                retryable = isinstance(exc, _NOT_SENT) or (
                    not writes and isinstance(exc, httpx.TransportError)
                )
            else:
                if response.is_success:
                    return response
                retryable = response.status_code in retry_statuses
                retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            finally:
                if gate is not None:
                    gate.leave(sent_at, throttled=throttled)
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            # Real time when sleeping for real, the waits alone when sleep is faked.
            spent = max(time.monotonic() - started, waited)
            if (
                not retryable
                or attempt >= policy.max_attempts
                or spent + delay > policy.max_elapsed
                or delay >= self._deadline.remaining()
            ):
                gave_up = f" (gave up after {attempt} attempts)" if attempt > 1 else ""
                if cause is not None:
                    raise TransportError(
                        operation,
                        method,
                        path,
                        self._scrub(_describe(cause)) + gave_up,
                        self.advice.unreachable(self.base_url),
                    ) from cause
                raise ApiError(
                    operation,
                    method,
                    path,
                    response.status_code,
                    self._scrub(_error_message(response)) + gave_up,
                    self.advice.refused(response.status_code, method, self.base_url),
                )
            self._sleep(delay)
            waited += delay

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        """One request, within the deadline and the size limit.

        It runs in a thread of its own that is waited for only until the deadline: a
        server can stall a read (headers or body, a byte at a time) but not the command.
        """
        with self._deadline.counting():
            remaining = self._deadline.remaining()
            if remaining <= 0:
                raise _DeadlinePassed
            outcome: list[httpx.Response | BaseException] = []

            def work() -> None:
                try:
                    outcome.append(self._read(method, path, body, remaining))
                except BaseException as exc:  # handed to the waiting thread
                    outcome.append(exc)

            worker = threading.Thread(target=work, name="registry-request", daemon=True)
            worker.start()
            worker.join(remaining)
            if not outcome:
                raise _DeadlinePassed
            if isinstance(outcome[0], BaseException):
                raise outcome[0]
            return outcome[0]

    def _read(
        self, method: str, path: str, body: dict[str, Any] | None, remaining: float
    ) -> httpx.Response:
        timeout = httpx.Timeout(min(self._timeout, remaining))
        with self._http.stream(method, path, json=body, timeout=timeout) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_response_bytes:
                raise _TooLarge
            chunks: list[bytes] = []
            size = 0
            # Decoded bytes are counted, so a compressed body cannot expand past the limit.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_response_bytes:
                    raise _TooLarge
                if self._deadline.remaining() <= 0:  # abandoned: stop reading
                    raise _DeadlinePassed
                chunks.append(chunk)
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() != "content-encoding"
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=response.request,
        )

    def _deadline_error(
        self, operation: str, method: str, path: str, attempts: int
    ) -> TransportError:
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        return TransportError(
            operation,
            method,
            path,
            f"no answer within the --timeout of {self._deadline.seconds:g} s for the "
            f"command's network time{tried}; try again, or raise --timeout",
            self.advice.unreachable(self.base_url),
        )

    @contextlib.contextmanager
    def _scrubbing(self) -> Iterator[None]:
        """Scrub the message of a shape error, built from what the server sent."""
        try:
            yield
        except ResponseShapeError as exc:
            raise ResponseShapeError(
                exc.origin, self._scrub(exc.where), self._scrub(exc.what)
            ) from None

    def _scrub(self, text: str) -> str:
        """Belt and braces: the key is never sent back, but a proxy might echo it, whole,
        base64-encoded or cut short. Any 8-character piece of those is hidden."""
        width = self._width
        if len(text) < width:
            return text
        hide = [False] * len(text)
        for start in range(len(text) - width + 1):
            if text[start : start + width] in self._hidden:
                for index in range(start, start + width):
                    hide[index] = True
        if not any(hide):
            return text
        out: list[str] = []
        for index, char in enumerate(text):
            if not hide[index]:
                out.append(char)
            elif index == 0 or not hide[index - 1]:
                out.append("***")
        return "".join(out)


def _hidden_forms(api_key: str) -> frozenset[str]:
    """Every 8-character piece of the key and of its base64 forms (standard and URL
    alphabets, at each of the three alignments it can take inside a longer text)."""
    forms = [api_key]
    raw = api_key.encode()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw).decode("ascii")
            # The first characters depend on what precedes the key, the last on what follows.
            forms.append(encoded[4 if offset else 0 : -4])
    width = min(_FRAGMENT, len(api_key))
    return frozenset(
        form[start : start + width]
        for form in forms
        for start in range(len(form) - width + 1)
        if len(form) >= width
    )


def _header_safe(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and " " not in value


def _checked_base_url(base_url: str) -> str:
    # The URL is never repeated: it may hold a password.
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        raise ConfigError("the MKA1 API URL is not a URL that parses; fix it") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError("the MKA1 API URL must start with http:// or https:// and name a host")
    if url.userinfo:
        raise ConfigError(
            "the MKA1 API URL has a user name or password in it; remove it: the only "
            "credential sent is the API key"
        )
    return base_url.rstrip("/")


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _describe(exc: httpx.HTTPError) -> str:
    """A short cause for a transport failure; never includes request headers."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({detail})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({detail})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"connection dropped ({detail})"
    return detail


def _error_message(response: httpx.Response) -> str:
    """The message an error body carries, on one line, at most ~300 characters."""
    try:
        document = json.loads(response.content)
    except ValueError:
        document = None
    message = _message_in(document)
    if message is None:
        message = response.content.decode("utf-8", "replace")
    message = " ".join(message.split())
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return message


def _message_in(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    error = document.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(document.get("message"), str):
        return str(document["message"])
    detail = document.get("detail")
    if isinstance(detail, str):
        return detail
    if detail is not None:
        return json.dumps(detail)
    return None
