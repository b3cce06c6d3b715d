"""Which values are secrets, and how they are hidden.

A secret is never written to models/, never printed and never put in a plan. One
rule, :func:`secret_paths`, serves the loader (reject secrets in files), the planner
and renderers (show ``(sensitive)`` for secrets seen in live definitions), saved
plans and export (placeholders). A value is secret when it is:

* an auth ``value``, or a custom header that carries a credential (by name or value);
* under any key whose name looks like a credential (``key``, ``token``, ``secret``,
  ``password``, ``authorization``, ``subscription``, ``signature``, ...), anywhere,
  except the environment variable *names* of ``envVars`` and numbers or flags under
  such a name (a count like ``maxBatchTokens`` is no credential);
* a URL (``baseUrl``, ``healthCheck.url``, or any string with a scheme) with a user
  name or password, or a credential-looking query or fragment parameter -- or one
  that does not parse, which cannot be checked and so is treated as secret.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from registry_sync.schema.values import deep_copy

__all__ = [
    "PLACEHOLDER_ENV_VAR",
    "SENSITIVE",
    "is_credential_header",
    "is_credential_name",
    "is_credential_parameter",
    "may_hold_secrets_elsewhere",
    "placeholder_paths",
    "redact",
    "secret_paths",
    "url_has_credentials",
    "url_is_secret",
    "url_parses",
]

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
# Key names, anywhere in a definition, and URL parameter names.
_CREDENTIAL_NAME = re.compile(
    r"key|token|secret|passw|authoriz|subscription|signature|credential|cookie|session",
    re.IGNORECASE,
)
_CREDENTIAL_PARAMETER = re.compile(r"^(sig|code|auth|jwt|pwd|pass)$", re.IGNORECASE)
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Mappings whose values are names of environment variables, not secrets.
_NAME_MAPPINGS = frozenset({"envVars"})


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


def is_credential_name(name: object) -> bool:
    """True when a key or parameter name looks like it holds a credential."""
    return isinstance(name, str) and _credential_key(name)


def is_credential_parameter(name: str) -> bool:
    """True when a URL query or fragment parameter name looks like a credential."""
    return is_credential_name(name) or bool(_CREDENTIAL_PARAMETER.match(name))


def url_parses(url: str) -> bool:
    """True when ``url`` can be split into its parts (and its port is a number)."""
    try:
        urlsplit(url).port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def url_is_secret(url: str) -> bool:
    """True when a URL carries a credential (user information, a credential-looking
    query or fragment parameter), or does not parse and so cannot be checked."""
    if not url_parses(url):
        return True
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return True
    return any(
        is_credential_parameter(name)
        for part in (parts.query, parts.fragment)
        for name, _ in parse_qsl(part, keep_blank_values=True)
    )


def may_hold_secrets_elsewhere(names: set[str], links: list[str]) -> bool:
    """False when a definition whose keys (anywhere) are ``names`` and whose text
    values holding ``://`` are ``links`` has no secret outside the known places: no
    key looks like a credential's and no link is secret. The YAML reader collects
    both while building a file's data, so the loader need not walk it again."""
    verdicts = _KEY_VERDICTS
    for name in names:
        credential = verdicts.get(name)
        if credential is None:
            credential = _credential_key(name)
        if credential:
            return True
    return any(_secret_url_value(link) for link in links)


def secret_paths(
    definition: dict[str, Any], *, elsewhere: bool = True
) -> Iterator[tuple[str | int, ...]]:
    """Yield the key paths of every secret in a definition: the known places first
    (URLs, auth values, headers), then the rest (unless ``elsewhere`` is False: the
    caller knows there is none, :func:`may_hold_secrets_elsewhere`). A path is never
    below one already yielded."""
    found: list[tuple[str | int, ...]] = []
    base_url = definition.get("baseUrl")
    if isinstance(base_url, str) and url_is_secret(base_url):
        found.append(("baseUrl",))
    health_check = definition.get("healthCheck")
    if isinstance(health_check, dict):
        url = health_check.get("url")
        if isinstance(url, str) and url_is_secret(url):
            found.append(("healthCheck", "url"))
    for auth, prefix in _auth_objects(definition):
        if "value" in auth:
            found.append((*prefix, "value"))
        headers = auth.get("headers")
        if isinstance(headers, dict):
            for name, value in headers.items():
                if is_credential_header(str(name), value):
                    found.append((*prefix, "headers", name))
    yield from found
    if not elsewhere:
        return
    known = set(found)
    for path in _named_paths(definition):
        if not any(path[:length] in known for length in range(1, len(path) + 1)):
            yield path


def _named_paths(definition: dict[str, Any]) -> Iterator[tuple[str | int, ...]]:
    """Values under credential-looking keys, and secret URLs, anywhere.

    Iterative (a live definition may nest deeper than the recursion limit), and cheap
    on the common case: key names are judged once each (:data:`_KEY_VERDICTS`),
    strings without ``://`` at a glance, and a path is built only for a container
    to visit or a secret found.
    """
    pending: list[tuple[dict[str, Any] | list[Any], tuple[str | int, ...]]] = [(definition, ())]
    found: list[tuple[str | int, ...]] = []
    verdicts = _KEY_VERDICTS
    while pending:
        node, path = pending.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            if type(key) is str:
                if key in _NAME_MAPPINGS:
                    continue
                credential = verdicts.get(key)
                if credential is None:
                    credential = _credential_key(key)
                # A number or a flag is a count or a setting (``maxBatchTokens``,
                # ``tpm``), never a credential: those are text.
                if credential and value is not None and type(value) not in _NOT_CREDENTIALS:
                    found.append((*path, key))
                    continue
            kind = type(value)
            if kind is dict or kind is list:
                pending.append((value, (*path, key)))
            elif kind is str and "://" in value and _secret_url_value(value):
                found.append((*path, key))
    return iter(found)


_NOT_CREDENTIALS = (int, float, bool)
# Key name -> whether it looks like a credential's: the names of a registry repeat.
_KEY_VERDICTS: dict[str, bool] = {}
_MAX_KEY_VERDICTS = 65_536


def _credential_key(name: str) -> bool:
    verdict = _KEY_VERDICTS.get(name)
    if verdict is None:
        verdict = bool(_CREDENTIAL_NAME.search(name))
        if len(_KEY_VERDICTS) < _MAX_KEY_VERDICTS:
            _KEY_VERDICTS[name] = verdict
    return verdict


@functools.lru_cache(maxsize=4096)
def _secret_url_value(value: str) -> bool:
    return bool(_HAS_SCHEME.match(value)) and url_is_secret(value)


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
