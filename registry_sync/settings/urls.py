"""What makes a URL usable as the registry API's base URL: one rule for the
configuration file (a problem at its line) and for every run (an error before any
request). Messages never repeat the URL, which may hold a password."""

from __future__ import annotations

from urllib.parse import urlsplit

from registry_sync.settings.defaults import API_KEY_VARIABLE, DEFAULT_API_URL

__all__ = ["api_url_problem"]

# What every request path of both API generations starts with.
_API_PREFIX = "/api/v1"


def api_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the API's base URL, as the end of a sentence about it
    (``... has a query or fragment; ...``); None when it can. Plain http to another
    machine is the run's to judge (``--allow-insecure-http``), not this rule's."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return "is not a URL that parses; fix it"
    if "@" in parts.netloc:
        return (
            "has a user name or password in it; remove it: the only credential sent is "
            f"the API key in {API_KEY_VARIABLE}"
        )
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        return f"has a query or fragment; give only the base URL, such as {DEFAULT_API_URL}"
    if parts.scheme not in ("http", "https") or not host:
        return "must start with http:// or https:// and name a host"
    path = parts.path.rstrip("/")
    if path.endswith(_API_PREFIX) or f"{_API_PREFIX}/" in path:
        # Every request path starts with /api/v1: a base URL holding it doubles it
        # (/api/v1/api/v1/...), which the server answers with a 404 for every call.
        base = f"{parts.scheme}://{parts.netloc}{path.split(_API_PREFIX, 1)[0]}"
        return (
            f"already has {_API_PREFIX} in its path, which registry-sync adds to every "
            f"request; give the base URL only: {base}"
        )
    return None
