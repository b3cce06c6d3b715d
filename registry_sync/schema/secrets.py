"""Which values are secrets, and how they are hidden.

A secret is never written to models/, never printed and never put in a plan. One
rule, :func:`secret_paths`, serves the loader (reject secrets in files), the planner
and renderers (show ``(sensitive)`` for secrets seen in live definitions), saved
plans and export (placeholders). Which places carry credentials comes from the API's
schema, never from the words in a schema field's name (``maxBatchTokens``, ``tpm``
and an ``envVars`` entry naming ``HF_TOKEN`` are no secrets). A value is secret when:

* it holds a key in a well-known format, anywhere in a definition
  (:func:`registry_sync.schema.credentials.has_credential_shape`);
* it sits where the schema puts credentials and looks like one
  (:func:`registry_sync.schema.credentials.looks_like_credential`: also a
  ``Bearer``/``Basic`` value or long random-looking text): an auth ``value`` (always),
  a custom header's value (or any value of a header whose name says it carries a
  credential, ``Authorization``, ``X-Api-Key``, ``X-Api-Pass``...), an ``envVar`` or
  ``envVars`` value that is not an environment variable name, and a URL's user
  information, query and fragment parameters and path segments (a run of hex digits
  in a path is an account's or a deployment's id, not a key) (``baseUrl``,
  ``healthCheck.url``, any string with a scheme); a URL that does not parse cannot
  be checked and so is secret;
* it is text under a key the schema does not define (a free-form map such as
  ``defaultParams.extra_body``, or a field unknown to this version) whose name is a
  credential's: ``password``, ``pwd``, ``apiKey``, ``client_secret``, ``token``...
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from registry_sync.schema.credentials import (
    credential_spans,
    has_credential_shape,
    looks_like_credential,
)
from registry_sync.schema.values import deep_copy

__all__ = [
    "PLACEHOLDER_ENV_VAR",
    "PLACEHOLDER_SECRET",
    "SENSITIVE",
    "is_credential_header",
    "is_credential_name",
    "is_credential_parameter",
    "is_secret_variable",
    "may_hold_secrets_elsewhere",
    "placeholder_paths",
    "redact",
    "redact_text",
    "secret_paths",
    "url_has_credentials",
    "url_is_secret",
    "url_parses",
    "url_without_credentials",
]

SENSITIVE = "(sensitive)"
# What export writes where a live secret was: a valid name, so the file still reads,
# but validate rejects it until someone names the real variable.
PLACEHOLDER_ENV_VAR = "TODO_SET_ENV_VAR_NAME"
# ... and in any other text (a URL's path segment, a field holding a key): validate
# rejects a value holding it too, so the placeholder is never sent.
PLACEHOLDER_SECRET = "TODO-REMOVED-SECRET"

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A name says it holds a credential when one of its words is one of these (words
# split at '-', '_', '.' and case changes: X-Api-Pass, apiKey, CLIENT_SECRET) ...
_CREDENTIAL_WORDS = frozenset(
    {
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "pass",
        "passphrase",
        "session",
        "signature",
    }
)
# ... or ends with one of these (apikey, accesstoken, clientsecret, X-Api-Key).
_CREDENTIAL_ENDINGS = ("key", "token", "secret", "password", "passwd", "pwd")
# URL parameters have a few short names of their own.
_CREDENTIAL_PARAMETERS = frozenset({"sig", "code", "jwt"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Maps whose keys are header names, not fields.
_HEADER_MAPS = frozenset({"headers", "envVars"})


def is_credential_name(name: object) -> bool:
    """True when a name (a header's, a URL parameter's, a free-form key) says that its
    value is a credential. Never asked of the schema's own field names."""
    return isinstance(name, str) and _credential_name(name)


def is_credential_header(name: str, value: object) -> bool:
    """True when a custom header carries a credential: its name says so, or its value
    looks like one (a header value is a place credentials go, by the schema)."""
    if _credential_name(name):
        return True
    return isinstance(value, str) and looks_like_credential(value)


def is_credential_parameter(name: str) -> bool:
    """True when a URL query or fragment parameter name looks like a credential's."""
    return _credential_name(name) or name.lower() in _CREDENTIAL_PARAMETERS


def is_secret_variable(value: object) -> bool:
    """True when an ``envVar``/``envVars`` value, where the schema wants the *name* of
    an environment variable, is something else: not a name at all, or a key that
    happens to read as one (``sk_live_...``, ``ghp_...``, ``AKIA...``, random text)."""
    if not isinstance(value, str) or not value:
        return False
    return not _VARIABLE_NAME.match(value) or looks_like_credential(value)


def url_has_credentials(url: object) -> bool:
    """True when a URL embeds a user name or password (``https://user:pw@host``)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.username is not None or parts.password is not None


def url_parses(url: str) -> bool:
    """True when ``url`` can be split into its parts (and its port is a number)."""
    try:
        urlsplit(url).port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def url_is_secret(url: str) -> bool:
    """True when a URL carries a credential (user information, a credential query or
    fragment parameter, a path segment that looks like a key), or does not parse and
    so cannot be checked."""
    if not url_parses(url):
        return True
    return url_without_credentials(url) != url or has_credential_shape(url)


def url_without_credentials(url: str) -> str | None:
    """``url`` without its user information and credential parameters, and with each
    path segment that looks like a credential replaced by :data:`PLACEHOLDER_SECRET`;
    None when it does not parse. The same text when it holds no credential."""
    if not url_parses(url):
        return None
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    segments = parts.path.split("/")
    path = "/".join(
        PLACEHOLDER_SECRET
        if looks_like_credential(unquote(segment), path_segment=True)
        else segment
        for segment in segments
    )
    query, fragment = (
        _without_credential_parameters(part) for part in (parts.query, parts.fragment)
    )
    cleaned = parts._replace(netloc=netloc, path=path, query=query, fragment=fragment)
    if cleaned == parts:
        return url
    return urlunsplit(cleaned)


def _without_credential_parameters(part: str) -> str:
    pairs = parse_qsl(part, keep_blank_values=True)
    kept = [
        (name, value)
        for name, value in pairs
        if not (is_credential_parameter(name) or looks_like_credential(value))
    ]
    return part if len(kept) == len(pairs) else urlencode(kept)


def may_hold_secrets_elsewhere(names: set[str], texts: list[str]) -> bool:
    """False when a definition whose keys (anywhere) are ``names`` has no secret
    outside the known places, nor a placeholder export wrote, given ``texts``: every
    text value in it that holds ``://`` or is long enough to hold a key (the YAML
    reader collects both while building a file's data, so the loader need not walk
    it again). No key the schema does not define is named like a credential's, no
    link is secret, no text has a key's shape or holds :data:`PLACEHOLDER_SECRET`."""
    # The names of a registry repeat: those known to be plain go in one set operation.
    if not _PLAIN_NAMES.issuperset(names):
        for name in names.difference(_PLAIN_NAMES):
            if _free_form_credential(name):
                return True
    # One search over them all: no format spans a line break.
    joined = "\n".join(texts)
    if has_credential_shape(joined) or PLACEHOLDER_SECRET in joined:
        return True
    return any(_secret_url_value(text) for text in texts if "://" in text)


def secret_paths(
    definition: dict[str, Any], *, elsewhere: bool = True
) -> Iterator[tuple[str | int, ...]]:
    """Yield the key paths of every secret in a definition: the known places first
    (URLs, auth values, headers, environment variable names), then the rest (unless
    ``elsewhere`` is False: the caller knows there is none,
    :func:`may_hold_secrets_elsewhere`).
    A path is never below one already yielded."""
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
        if is_secret_variable(auth.get("envVar")):
            found.append((*prefix, "envVar"))
        headers = auth.get("headers")
        if isinstance(headers, dict):
            for name, value in headers.items():
                if is_credential_header(str(name), value):
                    found.append((*prefix, "headers", name))
        env_vars = auth.get("envVars")
        if isinstance(env_vars, dict):
            for name, value in env_vars.items():
                if is_secret_variable(value):
                    found.append((*prefix, "envVars", name))
    yield from found
    if not elsewhere:
        return
    known = set(found)
    for path in _elsewhere_paths(definition):
        if not any(path[:length] in known for length in range(1, len(path) + 1)):
            yield path


def _elsewhere_paths(definition: dict[str, Any]) -> Iterator[tuple[str | int, ...]]:
    """Text with a credential's shape and secret URLs anywhere, and text under
    free-form keys named like a credential's.

    Iterative (a live definition may nest deeper than the recursion limit), and cheap
    on the common case: key names are judged once each (:data:`_KEY_VERDICTS`),
    short strings at a glance, and a path is built only for a container to visit or
    a secret found.
    """
    pending: list[tuple[dict[str, Any] | list[Any], tuple[str | int, ...], bool]] = [
        (definition, (), False)
    ]
    found: list[tuple[str | int, ...]] = []
    verdicts = _KEY_VERDICTS
    while pending:
        node, path, header_map = pending.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            kind = type(value)
            if kind is str:
                if (
                    has_credential_shape(value)
                    or ("://" in value and _secret_url_value(value))
                    or (
                        type(key) is str
                        and not header_map
                        and value != PLACEHOLDER_SECRET  # reported as what it is
                        and _named(key, verdicts)
                    )
                ):
                    found.append((*path, key))
            elif kind is dict or kind is list:
                pending.append((value, (*path, key), kind is dict and key in _HEADER_MAPS))
    return iter(found)


def _named(key: str, verdicts: dict[str, bool]) -> bool:
    credential = verdicts.get(key)
    if credential is None:
        credential = _free_form_credential(key)
    return credential


# Key name -> whether it is a free-form key named like a credential's: the names of a
# registry repeat. And the names known not to be.
_KEY_VERDICTS: dict[str, bool] = {}
_PLAIN_NAMES: set[str] = set()
_MAX_KEY_VERDICTS = 65_536


def _free_form_credential(name: str) -> bool:
    verdict = _KEY_VERDICTS.get(name)
    if verdict is None:
        verdict = name not in _schema_names() and _credential_name(name)
        if len(_KEY_VERDICTS) < _MAX_KEY_VERDICTS:
            _KEY_VERDICTS[name] = verdict
            if not verdict:
                _PLAIN_NAMES.add(name)
    return verdict


@functools.lru_cache(maxsize=4096)
def _credential_name(name: str) -> bool:
    for word in _WORDS.findall(name):
        word = word.lower()
        if word in _CREDENTIAL_WORDS or word.endswith(_CREDENTIAL_ENDINGS):
            return True
    return False


@functools.cache
def _schema_names() -> frozenset[str]:
    """Every key the schema of any API generation defines, anywhere in a Definition
    (and the older health check form's ``url`` and ``method``)."""
    from registry_sync.schema.generations import APIS, schema_data

    names = {"url", "method"}
    for api in APIS:
        data = schema_data(api)
        names.update(data.fields)
        for shape in data.objects.values():
            names.update(shape.fields)
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _secret_url_value(value: str) -> bool:
    return bool(_HAS_SCHEME.match(value)) and url_is_secret(value)


def placeholder_paths(
    definition: dict[str, Any], *, elsewhere: bool = True
) -> Iterator[tuple[str | int, ...]]:
    """Yield the paths of the placeholders export wrote for a secret and nobody
    replaced yet: auth ``envVar``/``envVars`` values set to :data:`PLACEHOLDER_ENV_VAR`,
    and (unless ``elsewhere`` is False) any text holding :data:`PLACEHOLDER_SECRET`."""
    for auth, prefix in _auth_objects(definition):
        if auth.get("envVar") == PLACEHOLDER_ENV_VAR:
            yield (*prefix, "envVar")
        env_vars = auth.get("envVars")
        if isinstance(env_vars, dict):
            for header, name in env_vars.items():
                if name == PLACEHOLDER_ENV_VAR:
                    yield (*prefix, "envVars", header)
    if not elsewhere:
        return
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(definition, ())]
    while pending:
        node, path = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, str) and PLACEHOLDER_SECRET in value:
                yield (*path, key)
            elif isinstance(value, (dict, list)):
                pending.append((value, (*path, key)))


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


def redact_text(text: str) -> str:
    """``text`` (a server's message, say) with every key of a well-known format in it
    shown as ``(sensitive)``: a message may quote what the registry holds."""
    spans = list(credential_spans(text))
    if not spans:
        return text
    pieces: list[str] = []
    end = 0
    for start, stop in spans:
        pieces.extend((text[end:start], SENSITIVE))
        end = stop
    pieces.append(text[end:])
    return "".join(pieces)
