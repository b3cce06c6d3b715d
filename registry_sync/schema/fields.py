"""What a Definition's fields are, without building its models.

The constants and small rules that the warm path (a plan served from the parse
cache) and the config file need: they must not cost pydantic and the models of
:mod:`registry_sync.schema.definition`, which imports and re-exports them.
:data:`DEFINITION_FIELDS` is written out here; a test checks it against the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Patterns whose meaning the loader explains in words instead of showing the regex.
ID_PATTERN = r"^\S+$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
HTTP_URL_PATTERN = r"^https?://[^\s/?#]+([/?#]\S*)?$"
HTTP_METHOD_PATTERN = r"^[A-Z]+$"
PATTERN_MEANINGS = {
    ID_PATTERN: "an id without whitespace",
    ENV_VAR_PATTERN: "an environment variable name (letters, digits and '_', not starting "
    "with a digit)",
    HTTP_URL_PATTERN: "an http:// or https:// URL",
    HTTP_METHOD_PATTERN: "an HTTP method in capitals, such as GET",
}

# The top-level fields this version knows, in the API reference's order. A live
# definition may hold others (the API's definition is an open object).
DEFINITION_FIELDS: tuple[str, ...] = (
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
)
_KNOWN_FIELDS = frozenset(DEFINITION_FIELDS)

# The 13 fields an update may set to null, which clears them (the API's update schema).
NULLABLE_FIELDS = frozenset(
    {
        "displayName",
        "baseUrl",
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
    }
)

# The start of the type of every error that is advice, reported as a warning.
ADVICE_PREFIX = "advice_"


def is_advice(error_type: str) -> bool:
    """True for the type of an error that is advice (a warning), not a rule of the API."""
    return error_type.startswith(ADVICE_PREFIX)


def unknown_fields(definition: Mapping[str, Any]) -> list[str]:
    """Top-level fields of a live definition that this version does not know."""
    if _KNOWN_FIELDS.issuperset(definition):
        return []
    return [key for key in definition if key not in _KNOWN_FIELDS]


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
