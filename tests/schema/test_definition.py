"""The Definition models: the API's keys, strict types, and agreement with the official SDK."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from meetkai_mka1.models import AddRegistryModelRequest
from paths import DATA, ROOT
from pydantic import ValidationError

from registry_sync.desired.loader import load_models
from registry_sync.schema.definition import Definition, allowed_keys, definition_json_schema
from registry_sync.schema.fields import health_check_form, is_advice

Loc = tuple[str | int, ...]

# The Definition table of the API reference, in its order.
API_FIELDS = [
    "id", "provider", "modelId", "displayName", "baseUrl", "apiFormat", "apiProviderType",
    "created", "auth", "capabilities", "contextWindow", "rpm", "rateLimits", "concurrency",
    "requestTimeoutMs", "maxRetries", "defaultParams", "rerouteRules", "hidden",
    "embeddingLimits", "healthCheck",
]  # fmt: skip

MINIMAL: dict[str, Any] = {
    "id": "meetkai:chat",
    "provider": "openai-compatible",
    "modelId": "chat",
    "apiFormat": "responses",
    "auth": {"type": "none"},
    "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
}


def with_field(path: Loc, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(MINIMAL)
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


def errors(body: dict[str, Any]) -> list[tuple[str, Loc]]:
    try:
        Definition.model_validate(body)
    except ValidationError as exc:
        return [(error["type"], error["loc"]) for error in exc.errors()]
    return []


# --- the schema speaks the API's keys ----------------------------------------------------


def test_schema_has_every_api_field_in_camel_case() -> None:
    schema = definition_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == API_FIELDS
    assert schema["required"] == ["id", "provider", "modelId", "apiFormat", "auth", "capabilities"]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("definition", "keys"),
    [
        ("ApiKeyAuth", ["type", "envVar", "headerName", "value"]),
        ("CustomHeadersAuth", ["type", "headers", "envVars"]),
        ("CompositeAuth", ["type", "strategies"]),
        (
            "Capabilities",
            [
                "modalities", "reasoning", "supportsTemperature", "supportsTopP",
                "supportedBase64Formats", "supportsCompletionVideoUrlMessage",
                "maxImageResolution", "minImageResolution",
            ],
        ),
        ("ImageResolution", ["maxWidth", "maxHeight"]),
        ("RateLimit", ["scope", "rpm", "duration", "queue"]),
        ("Queue", ["maxDepth", "maxWaitMs"]),
        ("Concurrency", ["max", "maxWaitMs"]),
        ("DefaultParams", ["temperature", "topP", "presencePenalty", "frequencyPenalty"]),
        ("RerouteRule", ["trigger", "targetModelId", "preserveParams", "log"]),
        ("InputModalityTrigger", ["type", "modality"]),
        ("EmbeddingLimits", ["maxBatchSize", "dimensions"]),
        ("DimensionRange", ["min", "max", "default"]),
        (
            "HealthCheckPeriodic",
            ["mode", "path", "intervalSeconds", "method", "timeoutMs", "cacheTtlSeconds"],
        ),
        ("HealthCheckUrl", ["url", "method"]),
    ],
)  # fmt: skip
def test_schema_objects_have_the_api_keys(definition: str, keys: list[str]) -> None:
    assert list(definition_json_schema()["$defs"][definition]["properties"]) == keys


def test_schema_lists_the_enums() -> None:
    defs = definition_json_schema()["$defs"]
    assert definition_json_schema()["properties"]["apiProviderType"]["enum"] == [
        "groq", "azure", "meetkai", "meetkaiGateway", "fal", "openai",
    ]  # fmt: skip
    assert defs["RateLimit"]["properties"]["scope"]["enum"] == [
        "global", "org", "user", "apiKey", "externalUser",
    ]  # fmt: skip
    assert defs["Modalities"]["properties"]["input"]["items"]["enum"] == [
        "text", "image", "audio", "video",
    ]  # fmt: skip


def test_schema_has_no_null_defaults() -> None:
    assert '"default": null' not in str(definition_json_schema()).replace("'", '"')
    assert "default" not in definition_json_schema()["properties"]["displayName"]


# --- strict validation ------------------------------------------------------------------

TOP_P: Loc = ("defaultParams", "topP")
ENV_VAR: Loc = ("auth", "api-key", "envVar")
ADVICE_ENV_VAR = ("advice_pattern", ENV_VAR)
CUSTOM_HEADERS = {"type": "custom-headers", "headers": {"X-Region": "eu"}, "envVars": {"X-K": "K"}}
NESTED_COMPOSITE = {
    "type": "composite",
    "strategies": [{"type": "composite", "strategies": [{"type": "api-key", "envVar": 1}]}],
}
NESTED_ENV_VAR: Loc = (
    "auth",
    "composite",
    "strategies",
    0,
    "composite",
    "strategies",
    0,
    *ENV_VAR[1:],
)
REASONING: Loc = ("capabilities", "reasoning")
OUTPUT: Loc = ("capabilities", "modalities", "output")
RATE_LIMIT = {
    "scope": "apiKey",
    "rpm": 10,
    "duration": 60,
    "queue": {"maxDepth": 5, "maxWaitMs": 9},
}
SCOPE: Loc = ("rateLimits", 0, "scope")
INPUT_MODALITY = {"type": "input-modality", "modality": "image"}
TRIGGER: Loc = ("rerouteRules", 0, "trigger")
DIMENSION_ORDER = ("advice_dimension_range", ("embeddingLimits", "dimensions", "range"))
PREFLIGHT = {
    "mode": "preflight",
    "path": "/h",
    "method": "HEAD",
    "timeoutMs": 500,
    "cacheTtlSeconds": 0,
}
PERIODIC = {"mode": "periodic", "path": "/h", "intervalSeconds": 30}
INTERVAL = ("missing", ("healthCheck", "periodic", "intervalSeconds"))
PROBE_METHOD = ("literal_error", ("healthCheck", "preflight", "method"))
OFF_PATH = ("extra_forbidden", ("healthCheck", "off", "path"))


def rule(trigger: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": trigger, "targetModelId": "a:b"}


def dims(low: int, default: int, high: int) -> dict[str, int]:
    return {"min": low, "max": high, "default": default}


STRICT_CASES: list[tuple[str, Loc, Any, list[tuple[str, Loc]]]] = [
    ("'yes' is not a bool", ("hidden",), "yes", [("bool_type", ("hidden",))]),
    ("1 is not a bool", ("hidden",), 1, [("bool_type", ("hidden",))]),
    ("'1' is not an int", ("rpm",), "1", [("int_type", ("rpm",))]),
    ("true is not an int", ("rpm",), True, [("int_type", ("rpm",))]),
    ("1.5 is not an int", ("rpm",), 1.5, [("int_type", ("rpm",))]),
    ("null is not a value", ("displayName",), None, [("string_type", ("displayName",))]),
    ("positive ints are advice", ("contextWindow",), 0, [("advice_bound", ("contextWindow",))]),
    ("negative ints are advice", ("rpm",), -1, [("advice_bound", ("rpm",))]),
    ("retries may be 0", ("maxRetries",), 0, []),
    ("an int is a number", ("defaultParams",), {"temperature": 1}, []),
    ("'0.5' is not a number", ("defaultParams",), {"topP": "0.5"}, [("float_type", TOP_P)]),
    # Any string passes the API; one it does not document is a warning (advice).
    (
        "undocumented apiFormat is a warning",
        ("apiFormat",),
        "realtime",
        [("advice_undocumented", ("apiFormat",))],
    ),
    ("provider type enum", ("apiProviderType",), "x", [("literal_error", ("apiProviderType",))]),
    ("created in seconds", ("created",), 1704067200, []),
    (
        "created in ms",
        ("created",),
        1704067200000,
        [("advice_epoch_milliseconds", ("created",))],
    ),
    ("https baseUrl", ("baseUrl",), "https://llm.example.com/v1", []),
    ("http baseUrl", ("baseUrl",), "http://10.0.0.7:8000", []),
    (
        "baseUrl scheme",
        ("baseUrl",),
        "llm.example.com",
        [("advice_pattern", ("baseUrl",))],
    ),
    ("unknown key", ("contextLength",), 1, [("extra_forbidden", ("contextLength",))]),
    ("api-key without envVar", ("auth",), {"type": "api-key"}, []),
    ("envVar name is advice", ("auth",), {"type": "api-key", "envVar": "a-b"}, [ADVICE_ENV_VAR]),
    ("auth value is modelled", ("auth",), {"type": "api-key", "envVar": "K", "value": "v"}, []),
    ("custom headers", ("auth",), CUSTOM_HEADERS, []),
    ("composite is recursive", ("auth",), NESTED_COMPOSITE, [("string_type", NESTED_ENV_VAR)]),
    ("reasoning", ("capabilities", "reasoning"), "x", [("bool_type", REASONING)]),
    ("modality enum", OUTPUT, ["text", "smell"], [("literal_error", (*OUTPUT, 1))]),
    ("rate limit", ("rateLimits",), [RATE_LIMIT], []),
    (
        "rate limit scope",
        ("rateLimits",),
        [{"scope": "team", "rpm": 1}],
        [("literal_error", SCOPE)],
    ),
    ("input-modality trigger", ("rerouteRules",), [rule(INPUT_MODALITY)], []),
    ("trigger union", ("rerouteRules",), [rule({"type": "x"})], [("union_tag_invalid", TRIGGER)]),
    ("dimensions int", ("embeddingLimits",), {"dimensions": 768, "maxBatchSize": 8}, []),
    ("dimensions range", ("embeddingLimits",), {"dimensions": dims(1, 4, 8)}, []),
    ("dimensions order", ("embeddingLimits",), {"dimensions": dims(9, 4, 8)}, [DIMENSION_ORDER]),
    ("healthCheck off", ("healthCheck",), {"mode": "off"}, []),
    ("healthCheck preflight", ("healthCheck",), PREFLIGHT, []),
    ("healthCheck periodic", ("healthCheck",), {**PREFLIGHT, "mode": "periodic"}, [INTERVAL]),
    ("healthCheck periodic ok", ("healthCheck",), PERIODIC, []),
    (
        "healthCheck documented",
        ("healthCheck",),
        {"url": "https://h.example.com", "method": "GET"},
        [],
    ),
    ("healthCheck method", ("healthCheck",), {**PREFLIGHT, "method": "POST"}, [PROBE_METHOD]),
    (
        "healthCheck off takes nothing else",
        ("healthCheck",),
        {"mode": "off", "path": "/h"},
        [OFF_PATH],
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [case[1:] for case in STRICT_CASES],
    ids=[case[0] for case in STRICT_CASES],
)
def test_strict_validation(path: Loc, value: Any, expected: list[tuple[str, Loc]]) -> None:
    assert errors(with_field(path, value)) == expected


def test_required_fields() -> None:
    assert errors({}) == [
        ("missing", (name,))
        for name in ("id", "provider", "modelId", "apiFormat", "auth", "capabilities")
    ]


def test_allowed_keys_follow_union_tags() -> None:
    assert allowed_keys(()) == tuple(API_FIELDS)
    assert allowed_keys(("auth", "api-key")) == ("type", "envVar", "headerName", "value")
    assert allowed_keys(("auth", "composite", "strategies", 0, "custom-headers")) == (
        "type", "headers", "envVars",
    )  # fmt: skip
    assert allowed_keys(("healthCheck", "url-form")) == ("url", "method")
    assert allowed_keys(("embeddingLimits", "dimensions", "range")) == ("min", "max", "default")
    assert allowed_keys(("rateLimits", 3, "queue")) == ("maxDepth", "maxWaitMs")
    assert allowed_keys(("auth", "bearer")) == ()
    assert allowed_keys(("rpm",)) == ()


def test_health_check_form() -> None:
    assert health_check_form({"mode": "periodic", "url": "x"}) == "periodic"
    assert health_check_form({"url": "https://h"}) == "url-form"
    assert health_check_form({"path": "/h"}) is None
    assert health_check_form("off") is None


# --- what we accept, the official SDK accepts ---------------------------------------------

EXTRA_BODIES: list[dict[str, Any]] = [
    with_field(("auth",), {"type": "custom-headers", "headers": {}, "envVars": {"X-Key": "K"}}),
    with_field(("rerouteRules",), [
        {"trigger": {"type": trigger}, "targetModelId": "a:b", "log": True}
        for trigger in ("base64-input", "context-exceeded", "error-fallback")
    ]),
    with_field(("healthCheck",), {"mode": "off"}),
    with_field(("embeddingLimits",), {"maxBatchSize": 16, "dimensions": 1536}),
    with_field(("concurrency",), {"max": 3}),
    with_field(("hidden",), True),
]  # fmt: skip


def accepted_bodies() -> list[dict[str, Any]]:
    bodies = list(EXTRA_BODIES)
    for folder in (ROOT / "models", DATA / "valid"):
        bodies.extend(definition.body for definition in load_models(folder).definitions)
    return bodies


def test_valid_bodies_validate_with_the_official_sdk() -> None:
    checked = 0
    for body in accepted_bodies():
        # Warnings aside (an apiFormat the API does not document): valid files.
        assert [error for error in errors(body) if not is_advice(error[0])] == []
        # The SDK requires what the file may leave out: created (the tool fills it) and
        # apiProviderType (the documentation example omits it).
        request = {"created": 1704067200, "apiProviderType": "openai", **body}
        if "url" in request.get("healthCheck", {}):
            # The documentation's {url, method} form is unknown to the SDK, which only
            # has the mode forms: the one known mismatch, checked below.
            del request["healthCheck"]
        AddRegistryModelRequest.model_validate(request, by_alias=True)
        checked += 1
    assert checked >= 10


def test_the_sdk_does_not_know_the_documented_health_check_form() -> None:
    request = {
        **MINIMAL,
        "created": 1704067200,
        "apiProviderType": "openai",
        "healthCheck": {"url": "https://h.example.com/health", "method": "GET"},
    }
    assert errors(request) == []
    with pytest.raises(ValidationError):
        AddRegistryModelRequest.model_validate(request, by_alias=True)
