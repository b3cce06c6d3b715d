"""What a Definition's fields are, without building its models.

The constants and small rules that the warm path (a plan served from the parse
cache) and the config file need: they must not cost pydantic and the models of
:mod:`registry_sync.schema.definition`, which imports and re-exports them.
:data:`DEFINITION_FIELDS` and the other sets come from the generated schema data of
each API generation; a test checks them against the models.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from registry_sync.schema.generations import DEFAULT_API, schema_data

__all__ = [
    "ADVICE_PREFIX",
    "DEFINITION_FIELDS",
    "ENV_VAR_PATTERN",
    "HTTP_METHOD_PATTERN",
    "HTTP_URL_PATTERN",
    "NULLABLE_FIELDS",
    "OPTIONAL_IN_FILES",
    "PATTERN_MEANINGS",
    "REQUIRED_ON_ADD",
    "definition_fields",
    "field_homes",
    "health_check_form",
    "is_advice",
    "misplaced_field_home",
    "nullable_fields",
    "required_on_add",
    "unknown_fields",
]

# Patterns whose meaning the loader explains in words instead of showing the regex.
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
HTTP_URL_PATTERN = r"^https?://[^\s/?#]+([/?#]\S*)?$"
HTTP_METHOD_PATTERN = r"^[A-Z]+$"
PATTERN_MEANINGS = {
    ENV_VAR_PATTERN: "an environment variable name (letters, digits and '_', not starting "
    "with a digit)",
    HTTP_URL_PATTERN: "an http:// or https:// URL",
    HTTP_METHOD_PATTERN: "an HTTP method in capitals, such as GET",
}

# The top-level fields of every generation, in the API reference's order (the order of
# exported files and of the JSON Schema). Which of them a generation has, which are
# required on add and which are nullable on update is that generation's schema data
# (:mod:`registry_sync.schema.generations`, generated from its SDK).
_FIELD_ORDER: tuple[str, ...] = (
    "id",
    "provider",
    "modelId",
    "displayName",
    "baseUrl",
    "apiFormat",
    "apiProviderType",
    "created",
    "auth",
    "capabilities",
    "contextWindow",
    "rpm",
    "rateLimits",
    "concurrency",
    "requestTimeoutMs",
    "maxRetries",
    "defaultParams",
    "rerouteRules",
    "hidden",
    "embeddingLimits",
    "healthCheck",
    "modelCard",
    "lifecycle",
)


@functools.cache
def definition_fields(api: str = DEFAULT_API) -> tuple[str, ...]:
    """The top-level fields ``api``'s generation knows, in the API reference's order
    (a field the order does not list yet comes last, in the SDK's order).

    A live definition may hold others: the API's definition is an open object.
    """
    known = schema_data(api).fields
    return tuple(key for key in _FIELD_ORDER if key in known) + tuple(
        key for key in known if key not in _FIELD_ORDER
    )


@functools.cache
def nullable_fields(api: str = DEFAULT_API) -> frozenset[str]:
    """The fields an update of ``api``'s generation may set to null, which clears them."""
    return frozenset(schema_data(api).nullable_on_update)


def required_on_add(api: str = DEFAULT_API) -> tuple[str, ...]:
    """The fields the add endpoint of ``api``'s generation requires, in the SDK's order."""
    return schema_data(api).required_on_add


# Required on add, but a file may leave them out: the tool fills created, and a live
# entry may lack apiProviderType (plan reports a create or replace that needs it).
OPTIONAL_IN_FILES = frozenset({"apiProviderType", "created"})

# The registry API's (the default generation's) sets, which the warm path reads.
DEFINITION_FIELDS: tuple[str, ...] = definition_fields(DEFAULT_API)
NULLABLE_FIELDS = nullable_fields(DEFAULT_API)  # the 13 fields
REQUIRED_ON_ADD = required_on_add(DEFAULT_API)

# The start of the type of every error that is advice, reported as a warning.
ADVICE_PREFIX = "advice_"


def is_advice(error_type: str) -> bool:
    """True for the type of an error that is advice (a warning), not a rule of the API."""
    return error_type.startswith(ADVICE_PREFIX)


def unknown_fields(definition: Mapping[str, Any], api: str = DEFAULT_API) -> list[str]:
    """Top-level fields of a live definition that this version does not know in
    ``api``'s generation."""
    known = _known_fields(api)
    if known.issuperset(definition):
        return []
    return [key for key in definition if key not in known]


@functools.cache
def _known_fields(api: str) -> frozenset[str]:
    return frozenset(definition_fields(api))


@functools.cache
def field_homes(api: str = DEFAULT_API) -> Mapping[str, tuple[str, ...]]:
    """Every field name of ``api``'s Definition, at any depth, and the paths where it
    belongs (``envVar`` -> ``auth.envVar``, ``auth.strategies[].envVar``, ...), the
    shallowest first. From the schema data, so a field the SDK adds is found too."""
    data = schema_data(api)
    homes: dict[str, set[str]] = {name: {name} for name in data.fields}
    for path, shape in data.objects.items():
        parent = _display(path)
        for name in shape.fields:
            homes.setdefault(name, set()).add(f"{parent}.{name}")
    return {
        name: tuple(sorted(paths, key=lambda path: (path.count("."), len(path), path)))
        for name, paths in homes.items()
    }


def misplaced_field_home(
    key: str, parent: Sequence[str | int], api: str = DEFAULT_API
) -> str | None:
    """Where ``key``, unknown in the object at ``parent`` (a pydantic location, union
    tags and list indexes included), belongs instead: its shallowest home elsewhere in
    the Definition; None when it belongs nowhere else, or here too (in another form of
    a union, such as ``envVar`` in an ``auth`` of type ``none``)."""
    here = ".".join(
        str(part) for part in parent if isinstance(part, str) and part not in _union_tags(api)
    )
    homes = field_homes(api).get(key, ())
    if any(home.replace("[]", "").rpartition(".")[0] == here for home in homes):
        return None
    return homes[0] if homes else None


@functools.cache
def _union_tags(api: str) -> frozenset[str]:
    return frozenset(
        tag for path in schema_data(api).objects for tag in re.findall(r"<([^>]+)>", path)
    )


def _display(path: str) -> str:
    # auth<composite>.strategies[]<api-key> -> auth.strategies[]
    return re.sub(r"<[^>]+>", "", path)


def health_check_form(value: Any) -> str | None:
    """The tag of a healthCheck: its ``mode``, or ``url-form`` for ``{url, method}``.

    None (no tag) when neither key is there; the loader names both forms then.
    """
    if not isinstance(value, dict):
        return None
    if "mode" in value:
        return str(value["mode"])
    if "url" in value:
        return "url-form"
    return None
