"""Where desired and live state come from: the models folder, the API, or a saved
list response. Wiring only; the parsing lives in loader, client and live."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from registry_sync.client import RegistryClient, RetryPolicy
from registry_sync.errors import ConfigError, InvalidModels, ResponseShapeError
from registry_sync.live import LiveEntry, parse_list_response
from registry_sync.loader import LoadResult, load_models

DEFAULT_API_URL = "https://apigw.mka1.com"
API_KEY_VARIABLE = "MKA1_API_KEY"


@dataclass(frozen=True)
class LiveSource:
    """The live registry: an API base URL, or a saved list response file."""

    api_url: str = DEFAULT_API_URL
    registry_file: Path | None = None
    on_behalf_of: str | None = None
    retry_budget: float = RetryPolicy.max_elapsed

    def describe(self) -> str:
        """How plans name this source: the URL, or ``file:<path>``."""
        if self.registry_file is not None:
            return f"file:{self.registry_file}"
        return self.api_url.rstrip("/")


def load_desired(models_dir: Path) -> LoadResult:
    """Load models/, raising :class:`InvalidModels` with every problem if any."""
    result = load_models(models_dir)
    if result.problems:
        raise InvalidModels(result.problems)
    return result


def fetch_live(source: LiveSource, api_key: str | None) -> list[LiveEntry]:
    """Every live entry, from the file or the API. Fails closed: never an empty list
    standing in for a fetch that went wrong."""
    if source.registry_file is not None:
        return read_registry_file(source.registry_file)
    with open_client(source, api_key) as client:
        return client.list_models()


def open_client(
    source: LiveSource, api_key: str | None, *, connections: int = 20
) -> RegistryClient:
    """A client for ``source``; the key must come from the environment. It keeps
    ``connections`` connections alive: one per thread that will share it."""
    if not api_key:
        raise ConfigError(
            f"{API_KEY_VARIABLE} is not set: export the registry's admin API key in that "
            "environment variable (it is never accepted as a flag), or use --registry-file "
            "to plan against a saved registry"
        )
    return RegistryClient(
        source.api_url,
        api_key,
        on_behalf_of=source.on_behalf_of,
        retry=RetryPolicy(max_elapsed=source.retry_budget),
        connections=connections,
    )


def read_registry_file(path: Path) -> list[LiveEntry]:
    """Parse a saved list response (``{"object": "list", "data": [...]}``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"registry file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read registry file {path}: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResponseShapeError(
            str(path), f"line {exc.lineno}", f"not valid JSON: {exc.msg}"
        ) from exc
    return parse_list_response(document, str(path))
