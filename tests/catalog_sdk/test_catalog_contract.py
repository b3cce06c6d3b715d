"""Contract tests against the catalog generation's SDK (``meetkai-mka1==0.12.128``).

That SDK and the registry generation's (0.6.40, in the test extra) share the import name
``meetkai_mka1``, so these tests run in an environment of their own, which ``.ci/run``
builds (see README's "Run the tests"); the main suite does not collect this folder.

The committed catalog schema data is what this SDK states; every body built by our
factories for the catalog validates with its request models AND serialises back to
exactly the body sent; and our validation refuses a body exactly when the SDK does.
"""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from typing import Any

import pytest

from registry_sync.schema import generate
from registry_sync.schema.definition import api_problems, definition_model
from registry_sync.schema.fields import definition_fields, nullable_fields
from registry_sync.schema.generations import data_path
from registry_sync.testing import minimal_definition

# Imported by name: mypy and the main environment see SDK 0.6.40, which lacks them.
_MODELS: Any = importlib.import_module("meetkai_mka1.models")
ADD: Any = _MODELS.AddCatalogModelRequest
UPDATE: Any = _MODELS.UpdateCatalogModelRequest


def round_trips(body: dict[str, Any], model: Any) -> bool:
    """``body`` validates with the SDK model and serialises back to exactly itself."""
    try:
        validated = model.model_validate(body, by_alias=True)
    except ValueError:  # pydantic's ValidationError
        return False
    return bool(validated.model_dump(by_alias=True, mode="json", exclude_unset=True) == body)


def test_the_installed_sdk_is_the_catalog_generations() -> None:
    assert metadata.version("meetkai-mka1") == "0.12.128"


def test_the_catalog_data_is_what_the_installed_sdk_states() -> None:
    committed = json.loads(data_path("catalog").read_text("utf-8"))
    assert committed == generate.schema_data("catalog")
    assert generate.check("catalog")
    assert generate.main(["--api", "catalog", "--check"]) == 0


def test_the_registry_generation_cannot_be_generated_from_the_catalog_sdk() -> None:
    with pytest.raises(SystemExit, match="AddRegistryModelRequest not found"):
        generate.schema_data("registry")


# --- bodies built by our factories -----------------------------------------------------

FULL: dict[str, Any] = {
    "displayName": "Chat",
    "baseUrl": "https://llm.example.com/v1",
    "contextWindow": 128000,
    "rpm": 600,
    "rateLimits": [
        {"scope": "org", "tpm": 100000},
        {"scope": "apiKey", "rpm": 60, "tpm": 9000, "duration": 60},
        {"scope": "user", "rpm": 5, "queue": {"maxDepth": 10, "maxWaitMs": 500}},
    ],
    "concurrency": {"max": 4, "maxWaitMs": 100},
    "requestTimeoutMs": 30000,
    "maxRetries": 2,
    "defaultParams": {"temperature": 0.2, "topP": 0.9},
    "rerouteRules": [
        {"trigger": {"type": "input-modality", "modality": "image"}, "targetModelId": "x:y"},
        {"trigger": {"type": "error-fallback"}, "targetModelId": "x:y", "log": True},
    ],
    "hidden": False,
    "embeddingLimits": {"maxBatchSize": 64, "maxBatchTokens": 8192, "dimensions": 1024},
    "healthCheck": {"mode": "periodic", "path": "/models", "intervalSeconds": 60},
    "modelCard": {
        "parameterCount": 70_000_000_000,
        "activeParameterCount": 12_000_000_000,
        "releaseDate": "2025-01-31",
        "servingLocations": ["eu-west-1"],
        "developer": "Acme",
        "license": "apache-2.0",
        "weights": "open",
        "languages": ["en", "fr"],
        "baseModel": "acme-base",
        "limitations": "English first.",
    },
    "lifecycle": {
        "status": "deprecated",
        "deprecatedAt": "2025-02-01",
        "retiresAt": "2025-08-01",
        "successor": "team:chat-v2",
    },
}
CAPABILITIES = {
    "modalities": {"input": ["text", "image"], "output": ["text"]},
    "reasoning": True,
    "supportsTemperature": True,
    "supportsTopP": False,
    "supportedBase64Formats": ["png"],
    "supportsCompletionVideoUrlMessage": False,
    "supportsStructuredOutputs": True,
    "supportsImageDetailOriginal": True,
    "supportsReasoningEffort": True,
    "maxImageResolution": {"maxWidth": 2048, "maxHeight": 2048},
}
AUTHS: list[dict[str, Any]] = [
    {"type": "none"},
    {"type": "api-key", "envVar": "UPSTREAM_KEY", "headerName": "X-Api-Key"},
    {"type": "custom-headers", "headers": {"X-Org": "team"}, "envVars": {"X-T": "TOKEN"}},
    {
        "type": "composite",
        "strategies": [
            {"type": "api-key", "envVar": "K"},
            {"type": "custom-headers", "headers": {"X-Client": "c"}},
        ],
    },
]
ADD_BODIES = [
    minimal_definition("team:minimal"),
    minimal_definition("team:openrouter", apiProviderType="openrouter"),
    minimal_definition("team:full", capabilities=CAPABILITIES, **FULL),
    *(minimal_definition(f"team:auth-{n}", auth=auth) for n, auth in enumerate(AUTHS)),
    minimal_definition(
        "team:embed",
        apiFormat="embeddings",
        embeddingLimits={"maxBatchTokens": 8192, "dimensions": {"min": 1, "max": 9, "default": 4}},
        healthCheck={"mode": "preflight", "path": "/h", "method": "HEAD", "timeoutMs": 5},
        lifecycle={"status": "active"},
        modelCard={},
    ),
]


@pytest.mark.parametrize("body", ADD_BODIES, ids=[body["id"] for body in ADD_BODIES])
def test_every_add_body_round_trips_through_the_sdk(body: dict[str, Any]) -> None:
    assert api_problems(body, update=False, api="catalog") == []
    definition_model("catalog").model_validate(body)
    assert round_trips(body, ADD)


UPDATE_BODIES: list[dict[str, Any]] = [
    {"id": "team:chat", **dict.fromkeys(sorted(nullable_fields("catalog")))},
    {"id": "team:chat", "modelCard": None, "lifecycle": {"status": "retired"}},
    {"id": "team:chat", "contextWindow": 8192, "rpm": None, "hidden": None},
    {"id": "team:chat", **{k: v for k, v in ADD_BODIES[2].items() if k != "id"}},
    {"id": "team:chat", "apiProviderType": "openrouter", "embeddingLimits": None},
]


@pytest.mark.parametrize("body", UPDATE_BODIES, ids=range(len(UPDATE_BODIES)))
def test_every_update_body_round_trips_through_the_sdk(body: dict[str, Any]) -> None:
    assert api_problems(body, update=True, api="catalog") == []
    assert round_trips(body, UPDATE)


def test_the_15_nullable_fields_are_the_sdks() -> None:
    assert len(nullable_fields("catalog")) == 15
    for key in definition_fields("catalog"):
        body = {"id": "team:chat", key: None}
        if key == "id":
            continue
        clears = key in nullable_fields("catalog")
        assert (api_problems(body, update=True, api="catalog") == []) == clears, key
        assert round_trips(body, UPDATE) == clears, key


# --- our verdicts are the SDK's --------------------------------------------------------


def body(**fields: Any) -> dict[str, Any]:
    return minimal_definition("team:chat", **fields)


def trigger(kind: str) -> dict[str, Any]:
    return {"rerouteRules": [{"trigger": {"type": kind}, "targetModelId": "x:y"}]}


# (case, body, the field our problem names when the catalog API refuses it)
VERDICTS: list[tuple[str, dict[str, Any], str | None]] = [
    ("azure", body(apiProviderType="azure"), "apiProviderType"),
    ("fal", body(apiProviderType="fal"), "apiProviderType"),
    ("openrouter", body(apiProviderType="openrouter"), None),
    ("context-exceeded", body(**trigger("context-exceeded")), "rerouteRules.0.trigger"),
    ("base64-input", body(**trigger("base64-input")), "rerouteRules.0.trigger"),
    ("error-fallback", body(**trigger("error-fallback")), None),
    ("tpm only", body(rateLimits=[{"scope": "org", "tpm": 1}]), None),
    ("no rpm nor tpm", body(rateLimits=[{"scope": "org"}]), None),
    ("scope", body(rateLimits=[{"scope": "team", "rpm": 1}]), "rateLimits.0.scope"),
    ("maxBatchTokens", body(embeddingLimits={"maxBatchTokens": 1}), None),
    ("maxBatchTokens text", body(embeddingLimits={"maxBatchTokens": "1"}), "embeddingLimits"),
    ("weights", body(modelCard={"weights": "shared"}), "modelCard.weights"),
    ("release date", body(modelCard={"releaseDate": "2025-13-01"}), "modelCard.releaseDate"),
    ("date and time", body(lifecycle={"status": "active", "retiresAt": "2025-01-01T00:00:00"}),
     "lifecycle.retiresAt"),
    ("no status", body(lifecycle={"successor": "x:y"}), "lifecycle.status"),
    ("status", body(lifecycle={"status": "sunset"}), "lifecycle.status"),
    ("languages", body(modelCard={"languages": "en"}), "modelCard.languages"),
    ("no apiProviderType", {k: v for k, v in body().items() if k != "apiProviderType"},
     "apiProviderType"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("declared", "field"), [case[1:] for case in VERDICTS], ids=[case[0] for case in VERDICTS]
)
def test_the_catalog_refuses_what_the_sdk_refuses(
    declared: dict[str, Any], field: str | None
) -> None:
    found = api_problems(declared, update=False, api="catalog")
    assert round_trips(declared, ADD) == (field is None), found
    if field is None:
        assert found == []
    else:
        assert any(problem.startswith(field) for problem in found), found
