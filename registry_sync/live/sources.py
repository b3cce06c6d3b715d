"""Where live state comes from: the registry API or a saved list response. Wiring
only; the parsing lives in :mod:`~registry_sync.live.client`,
:mod:`~registry_sync.live.entries` and :mod:`~registry_sync.live.catalog`."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from registry_sync.errors import ConfigError, ResponseShapeError
from registry_sync.gcpause import gc_paused
from registry_sync.live.advice import Advice
from registry_sync.live.catalog import is_catalog_document, parse_catalog_list
from registry_sync.live.entries import LiveEntry, parse_list_response
from registry_sync.live.network import NetworkDeadline, RetryPolicy
from registry_sync.schema.generations import Api
from registry_sync.schema.ids import id_problem, unaddressable_warning
from registry_sync.settings.defaults import (
    API_KEY_VARIABLE,
    DEFAULT_API_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
)
from registry_sync.settings.urls import api_url_problem

if TYPE_CHECKING:
    from registry_sync.live.client import RegistryClient

__all__ = [
    "LiveSource",
    "LiveState",
    "checked_api_url",
    "fetch_live",
    "open_client",
    "read_registry_file",
]

_URL_SOURCES = "--api-url, MKA1_API_URL or api_url in registry-sync.yaml"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class LiveSource:
    """The live registry: an API base URL, or a saved list response file.

    ``deadline`` is the network time the command may spend, shared by every client
    opened for it; ``allow_insecure_http`` permits plain http to a host that is not
    this machine. ``api`` pins the API generation (None: the client probes for it,
    and a saved file says it by its shape)."""

    api_url: str = DEFAULT_API_URL
    registry_file: Path | None = None
    on_behalf_of: str | None = None
    retry_budget: float = RetryPolicy.max_elapsed
    allow_insecure_http: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # The environment variable holding the key: an environment's api_key_env, if any.
    api_key_env: str = API_KEY_VARIABLE
    deadline: NetworkDeadline = field(
        default_factory=lambda: NetworkDeadline(DEFAULT_TIMEOUT), compare=False
    )
    api: Api | None = None
    # Where the URL and the key came from, for the hint of an error reaching the registry.
    advice: Advice = Advice()

    def describe(self) -> str:
        """How plans name this source: the URL (checked, and never with user
        information, query or fragment), or ``file:<path>``."""
        if self.registry_file is not None:
            return f"file:{self.registry_file}"
        parts = urlsplit(checked_api_url(self.api_url, self.allow_insecure_http))
        return urlunsplit(parts._replace(query="", fragment="")).rstrip("/")

    def api_key(self) -> str | None:
        """The key, read from :attr:`api_key_env` (never from a file or a flag)."""
        return os.environ.get(self.api_key_env)

    def insecure(self) -> bool:
        """True when the key would travel over plain http to another machine."""
        return self.registry_file is None and _insecure_http(self.api_url)


def checked_api_url(url: str, allow_insecure_http: bool) -> str:
    """``url`` when it is usable as the API's base URL; raises :class:`ConfigError`.

    Refused: what :func:`~registry_sync.settings.urls.api_url_problem` refuses (the
    rule registry-sync.yaml is checked by too), and plain http to anything but this
    machine unless allowed. Messages never repeat the URL, which may hold a password.
    """
    problem = api_url_problem(url)
    if problem is not None:
        raise ConfigError(f"the MKA1 API URL (from {_URL_SOURCES}) {problem}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not allow_insecure_http and not _loopback(host):
        raise ConfigError(
            f"the MKA1 API URL for {host} is plain http: the API key would cross the "
            "network unencrypted; use https://, or pass --allow-insecure-http if you "
            "really mean it"
        )
    return url


def _insecure_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme == "http" and not _loopback(host)


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class LiveState:
    """What a fetch found: the API generation the registry speaks and its entries.

    ``left_out`` holds the ids of the entries the registry also holds whose id breaks
    the id rule (:mod:`registry_sync.schema.ids`): they are not in ``entries``, so no
    plan, apply, prune or export ever addresses them; the caller warns about them
    (:meth:`warning`)."""

    api: Api
    entries: list[LiveEntry]
    left_out: tuple[str, ...] = ()

    def warning(self) -> str | None:
        """The warning naming the entries left out (escaped); None when none was."""
        return unaddressable_warning(self.left_out) if self.left_out else None


def fetch_live(source: LiveSource, api_key: str | None) -> LiveState:
    """Every live entry, from the file or the API, with the generation found (or
    pinned). Fails closed: never an empty list standing in for a fetch that went wrong.
    Entries whose id no request can carry safely are left out (:attr:`LiveState.left_out`)."""
    if source.registry_file is not None:
        return _addressable(read_registry_file(source.registry_file, source.api))
    with open_client(source, api_key) as client:
        entries = client.list_models()
        return _addressable(LiveState(client.api, entries))


def _addressable(state: LiveState) -> LiveState:
    """``state`` without the entries whose id breaks the id rule, their ids in
    :attr:`LiveState.left_out`."""
    bad = [entry.id for entry in state.entries if id_problem(entry.id) is not None]
    if not bad:
        return state
    refused = set(bad)
    kept = [entry for entry in state.entries if entry.id not in refused]
    return LiveState(state.api, kept, (*state.left_out, *bad))


def open_client(
    source: LiveSource, api_key: str | None, *, connections: int = 20
) -> RegistryClient:
    """A client for ``source``; the key must come from the environment. It keeps
    ``connections`` connections alive: one per thread that will share it."""
    from registry_sync.live.client import RegistryClient  # httpx: only when the network is used

    if not api_key:
        raise ConfigError(
            f"{source.api_key_env} is not set: export the registry's admin API key in that "
            "environment variable (it is never accepted as a flag), or use --registry-file "
            "to plan against a saved registry"
        )
    client = RegistryClient(
        checked_api_url(source.api_url, source.allow_insecure_http),
        api_key,
        on_behalf_of=source.on_behalf_of,
        retry=RetryPolicy(max_elapsed=source.retry_budget),
        deadline=source.deadline,
        max_response_bytes=source.max_response_bytes,
        connections=connections,
        api=source.api,
    )
    client.advice = source.advice
    return client


def read_registry_file(path: Path, api: Api | None = None) -> LiveState:
    """Parse a saved list response: the registry API's (``{"object": "list", "data":
    [RegistryModel, ...]}``) or the catalog's (``{"object": "list", "currency", "data":
    [CatalogEntry, ...]}``), told apart by its shape (:func:`is_catalog_document`). With
    ``api`` pinned, a file of the other generation is a :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"registry file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read registry file {path}: {exc}") from exc
    with gc_paused():  # thousands of entries, all kept: collecting finds nothing
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResponseShapeError(
                str(path), f"line {exc.lineno}", f"not valid JSON: {exc.msg}"
            ) from exc
        except RecursionError:
            raise ResponseShapeError(
                str(path), "", "the JSON is nested too deeply to be a list response"
            ) from None
        found: Api = "catalog" if is_catalog_document(document) else "registry"
        if api is not None and api != found and not _empty_registry_list(document):
            raise ConfigError(
                f"registry file {path} is a list response of the {found} API, but api: "
                f"{api} is pinned; save the list of the {api} API, or change the pin"
            )
        if found == "catalog":
            return LiveState("catalog", parse_catalog_list(document, str(path)))
        return LiveState(api or "registry", parse_list_response(document, str(path)))


def _empty_registry_list(document: object) -> bool:
    # {"object": "list", "data": []} without currency reads the same in both generations.
    return isinstance(document, dict) and document.get("data") == [] and "currency" not in document
