"""What to check when the registry cannot be reached or refuses the key: the host,
and the setting that named it or the variable that holds the key.

A client knows the URL and the key, not where they came from; the settings do. A
:class:`Advice` carries that much into the client, which adds the hint to the error
it raises. The hint names the host, never the whole URL (it may hold a password),
and the variable's name, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from registry_sync.settings.defaults import API_KEY_VARIABLE, API_URL_VARIABLE

__all__ = ["Advice"]

# Statuses that say the key is wrong (401) or not an admin's (403 on a read: the
# registry endpoints are admin-scoped; a 403 on a write is the server refusing that
# write, a read-only definition, and the key is not to blame).
_KEY_REFUSED = 401
_KEY_NOT_ALLOWED = 403


@dataclass(frozen=True)
class Advice:
    """``url_setting`` says where the API URL came from, as people set it
    (``MKA1_API_URL``, ``--api-url``, ``api_url in registry-sync.yaml``);
    ``key_variable`` is the variable holding the key; ``environment`` the
    registry-sync.yaml environment selected (its ``api_key_env`` named the variable)."""

    url_setting: str = API_URL_VARIABLE
    key_variable: str = API_KEY_VARIABLE
    environment: str | None = None

    def unreachable(self, base_url: str) -> str:
        """The hint for no answer at all: the host, and the setting naming it."""
        return (
            f"is {_host(base_url)} the registry's host, and reachable from here? The API "
            f"URL comes from {self.url_setting}"
        )

    def refused(self, status: int, method: str, base_url: str) -> str:
        """The hint for an error status, or "" when the status says nothing of the
        key or the URL."""
        if status == _KEY_REFUSED or (status == _KEY_NOT_ALLOWED and method == "GET"):
            which = (
                f"{self.key_variable} (the api_key_env of environment {self.environment})"
                if self.environment is not None
                else self.key_variable
            )
            wrong = "refused the API key" if status == _KEY_REFUSED else "does not allow the key"
            return (
                f"{_host(base_url)} {wrong} in {which}: set it to an admin API key of "
                f"that registry (the API URL comes from {self.url_setting})"
            )
        return ""


def _host(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
        host = parts.hostname or base_url
        port = parts.port
    except ValueError:
        return "the API URL's host"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"
