"""Which values are secrets, and how they are hidden.

A secret is never written to models/, never printed and never put in a plan. The
rules here serve the loader (reject secrets in files), the planner and renderers
(show ``(sensitive)`` for secrets seen in live definitions) and export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from registry_sync.values import deep_copy

SENSITIVE = "(sensitive)"
# What export writes where a live secret was: a valid name, so the file still reads,
# but validate rejects it until someone names the real variable.
PLACEHOLDER_ENV_VAR = "TODO_SET_ENV_VAR_NAME"

_CREDENTIAL_HEADER = re.compile(
    r"(authorization|auth|api[-_]?key|token|secret|password|passwd|cookie|credential|signature)",
    re.IGNORECASE,
)
_CREDENTIAL_VALUE = re.compile(
    r"^(bearer|basic|token|digest)\s+\S+|^(sk|pk|rk|gsk|xai|ghp|gho|glpat)[-_]\S{8,}",
    re.IGNORECASE,
)
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_\-.+/=]{24,}$")


def is_credential_header(name: str, value: object) -> bool:
    """True when a custom header carries a credential, judged by its name or value."""
    if _CREDENTIAL_HEADER.search(name):
        return True
    if not isinstance(value, str):
        return False
    if _CREDENTIAL_VALUE.search(value.strip()):
        return True
    token = value.strip()
    return bool(
        _TOKEN_LIKE.match(token)
        and any(c.isdigit() for c in token)
        and any(c.isalpha() for c in token)
    )


def url_has_credentials(url: object) -> bool:
    """True when a URL embeds a user name or password (``https://user:pw@host``)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.username is not None or parts.password is not None


def secret_paths(definition: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """Yield the key paths of every secret in a definition (top-level keys first)."""
    if url_has_credentials(definition.get("baseUrl")):
        yield ("baseUrl",)
    health_check = definition.get("healthCheck")
    if isinstance(health_check, dict) and url_has_credentials(health_check.get("url")):
        yield ("healthCheck", "url")
    for auth, prefix in _auth_objects(definition):
        if "value" in auth:
            yield (*prefix, "value")
        headers = auth.get("headers")
        if isinstance(headers, dict):
            for name, value in headers.items():
                if is_credential_header(str(name), value):
                    yield (*prefix, "headers", name)


def placeholder_paths(definition: dict[str, Any]) -> Iterator[tuple[str | int, ...]]:
    """Yield the paths of auth ``envVar``/``envVars`` values still set to the placeholder."""
    for auth, prefix in _auth_objects(definition):
        if auth.get("envVar") == PLACEHOLDER_ENV_VAR:
            yield (*prefix, "envVar")
        env_vars = auth.get("envVars")
        if isinstance(env_vars, dict):
            for header, name in env_vars.items():
                if name == PLACEHOLDER_ENV_VAR:
                    yield (*prefix, "envVars", header)


def _auth_objects(definition: dict[str, Any]) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Every auth object of a definition with its path: ``auth`` itself, then the
    strategies of a composite one, depth first."""
    pending: list[tuple[Any, tuple[Any, ...]]] = [(definition.get("auth"), ("auth",))]
    while pending:
        auth, prefix = pending.pop()
        if not isinstance(auth, dict):
            continue
        yield auth, prefix
        strategies = auth.get("strategies")
        if isinstance(strategies, list):
            pending.extend(
                (strategy, (*prefix, "strategies", index))
                for index, strategy in reversed(list(enumerate(strategies)))
            )


def redact(definition: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``definition`` with every secret replaced by ``(sensitive)``.

    Returns the same object when it holds no secret, so equal entries cost nothing.
    """
    paths = list(secret_paths(definition))
    if not paths:
        return definition
    result: dict[str, Any] = deep_copy(definition)
    for path in paths:
        target: Any = result
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = SENSITIVE
    return result
