"""Schema data per API generation: generated from the SDK, and what validation enforces.

Here, in the main environment, the installed SDK is the registry API's (0.6.40): the
committed registry data must be what it states, and validation per generation must
accept and refuse what each generation's API does. The catalog data is checked
against its own SDK (0.12.128) in tests/catalog_sdk/, in a second environment.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import metadata
from typing import Any

import pytest
from meetkai_mka1.models import AddRegistryModelRequest, UpdateRegistryModelRequest
from pydantic import BaseModel, ValidationError

from registry_sync.schema import generate
from registry_sync.schema.definition import (
    Definition,
    DefinitionTemplate,
    allowed_keys,
    api_problems,
    definition_json_schema,
    definition_model,
)
from registry_sync.schema.derive import derive_model
from registry_sync.schema.fields import (
    DEFINITION_FIELDS,
    NULLABLE_FIELDS,
    REQUIRED_ON_ADD,
    definition_fields,
    nullable_fields,
    required_on_add,
    unknown_fields,
)
from registry_sync.schema.generations import APIS, ObjectShape, check_api, data_path, schema_data
from registry_sync.testing import minimal_definition

# The 13 of the registry API reference; the catalog adds two.
NULLABLE_13 = {
    "displayName", "baseUrl", "contextWindow", "rpm", "rateLimits", "concurrency",
    "requestTimeoutMs", "maxRetries", "defaultParams", "rerouteRules", "hidden",
    "embeddingLimits", "healthCheck",
}  # fmt: skip


# --- the data and the SDK ---------------------------------------------------------------


def test_the_registry_data_is_what_the_installed_sdk_states() -> None:
    assert metadata.version("meetkai-mka1") == "0.6.40"
    committed = json.loads(data_path("registry").read_text("utf-8"))
    assert committed == generate.schema_data("registry")
    assert generate.check("registry")
    assert generate.main(["--api", "registry", "--check"]) == 0


def test_the_check_fails_when_the_data_and_the_sdk_disagree(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = json.loads(data_path("registry").read_text("utf-8"))
    stale["enums"]["apiProviderType"].append("fal2")
    path = tmp_path / "registry.json"
    path.write_text(generate.render(stale), "utf-8")
    monkeypatch.setattr(generate, "data_path", lambda api: path)
    assert not generate.check("registry")
    assert generate.main(["--api", "registry", "--check"]) == 1
    assert generate.main(["--api", "registry"]) == 0
    assert generate.check("registry")


def test_the_catalog_generation_cannot_be_generated_from_the_registry_sdk() -> None:
    with pytest.raises(SystemExit, match="AddCatalogModelRequest not found in meetkai-mka1"):
        generate.schema_data("catalog")


def test_each_generation_names_its_sdk() -> None:
    assert schema_data("registry").sdk_version == "0.6.40"
    assert schema_data("catalog").sdk_version == "0.12.128"
    assert [schema_data(api).api for api in APIS] == ["registry", "catalog"]
    assert not schema_data("registry").update_id_in_body
    assert schema_data("catalog").update_id_in_body


def test_an_unknown_generation_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown API generation 'v3': expected one of"):
        check_api("v3")
    with pytest.raises(ValueError, match="unknown API generation"):
        api_problems({}, update=False, api="v3")


# --- the sets each generation enforces ------------------------------------------------


def test_the_registry_sets_are_those_of_the_api_reference() -> None:
    assert DEFINITION_FIELDS == definition_fields("registry") == allowed_keys(())
    assert NULLABLE_FIELDS == nullable_fields("registry") == NULLABLE_13
    assert required_on_add("registry") == REQUIRED_ON_ADD
    assert REQUIRED_ON_ADD == (
        "id", "provider", "modelId", "apiFormat", "apiProviderType", "created", "auth",
        "capabilities",
    )  # fmt: skip


def test_the_catalog_sets() -> None:
    assert definition_fields("catalog") == (*DEFINITION_FIELDS, "modelCard", "lifecycle")
    assert definition_fields("catalog") == allowed_keys((), api="catalog")
    assert nullable_fields("catalog") == NULLABLE_13 | {"modelCard", "lifecycle"}
    assert len(nullable_fields("catalog")) == 15
    assert required_on_add("catalog") == REQUIRED_ON_ADD
    assert unknown_fields({"id": "x", "modelCard": {}}) == ["modelCard"]
    assert unknown_fields({"id": "x", "modelCard": {}}, api="catalog") == []


def test_the_models_are_built_once_per_generation() -> None:
    assert definition_model() is definition_model("registry") is Definition
    assert definition_model("catalog") is definition_model("catalog")
    assert definition_model("catalog") is not Definition


@pytest.mark.parametrize("api", APIS)
def test_every_field_of_the_data_has_a_house_template(api: str) -> None:
    """No field is checked by its JSON type only: each has the house's bounds and messages."""
    data = schema_data(api)

    def generic(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
        found = [f"{model.__name__}.{n}" for n in model.model_fields if n.startswith("field_")]
        for info in model.model_fields.values():
            for inner in _models_in(info.annotation):
                if inner not in seen:
                    seen.add(inner)
                    found.extend(generic(inner, seen))
        return found

    assert generic(definition_model(api), set()) == []
    assert set(allowed_keys((), api=api)) == set(data.fields)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


@pytest.mark.parametrize(
    ("api", "path", "values"),
    [
        ("registry", "apiProviderType", ["groq", "azure", "meetkai", "meetkaiGateway", "fal",
                                         "openai"]),
        ("catalog", "apiProviderType", ["groq", "meetkai", "meetkaiGateway", "openai",
                                        "openrouter"]),
        ("registry", "rerouteRules[].trigger.type", ["input-modality", "base64-input",
                                                     "context-exceeded", "error-fallback"]),
        ("catalog", "rerouteRules[].trigger.type", ["input-modality", "error-fallback"]),
        ("catalog", "healthCheck.mode", ["off", "preflight", "periodic"]),
        ("catalog", "rateLimits[].scope", ["global", "org", "user", "apiKey", "externalUser"]),
        ("catalog", "capabilities.modalities.input[]", ["text", "image", "audio", "video"]),
        ("catalog", "lifecycle.status", ["active", "deprecated", "retired"]),
        ("catalog", "modelCard.weights", ["open", "closed"]),
        ("catalog", "auth.type", ["api-key", "custom-headers", "none", "composite"]),
    ],
)  # fmt: skip
def test_enums_per_generation(api: str, path: str, values: list[str]) -> None:
    assert list(schema_data(api).enum(path)) == values


def test_the_json_schema_per_generation() -> None:
    registry, catalog = definition_json_schema(), definition_json_schema("catalog")
    assert "Base64InputTrigger" in registry["$defs"]
    assert "Base64InputTrigger" not in catalog["$defs"]
    assert catalog["properties"]["apiProviderType"]["enum"][-1] == "openrouter"
    assert list(catalog["$defs"]["Lifecycle"]["properties"]) == [
        "status", "deprecatedAt", "retiresAt", "successor",
    ]  # fmt: skip
    assert catalog["$defs"]["Lifecycle"]["properties"]["retiresAt"]["format"] == "date"
    assert catalog["$defs"]["RateLimit"]["required"] == ["scope"]
    assert registry["$defs"]["RateLimit"]["required"] == ["scope", "rpm"]
    assert "modelCard" not in registry["properties"]


# --- what each generation accepts and refuses -------------------------------------------


def body(**fields: Any) -> dict[str, Any]:
    return minimal_definition("team:chat", **fields)


def trigger(kind: str) -> dict[str, Any]:
    return {"rerouteRules": [{"trigger": {"type": kind}, "targetModelId": "team:other"}]}


CARD = {"parameterCount": 7, "weights": "open", "releaseDate": "2025-01-31", "languages": ["en"]}
LIFECYCLE = {"status": "deprecated", "deprecatedAt": "2025-02-01", "successor": "team:next"}

# (body, the field a refusal names in the registry API or None, the same in the catalog)
CASES: list[tuple[str, dict[str, Any], str | None, str | None]] = [
    ("minimal", body(), None, None),
    ("azure", body(apiProviderType="azure"), None, "apiProviderType"),
    ("fal", body(apiProviderType="fal"), None, "apiProviderType"),
    ("openrouter", body(apiProviderType="openrouter"), "apiProviderType", None),
    ("context-exceeded", body(**trigger("context-exceeded")), None, "rerouteRules.0.trigger"),
    ("base64-input", body(**trigger("base64-input")), None, "rerouteRules.0.trigger"),
    ("error-fallback", body(**trigger("error-fallback")), None, None),
    ("tpm only", body(rateLimits=[{"scope": "org", "tpm": 1000}]), "rateLimits.0", None),
    ("rpm and tpm", body(rateLimits=[{"scope": "org", "rpm": 5, "tpm": 9}]),
     "rateLimits.0.tpm", None),
    ("rpm only", body(rateLimits=[{"scope": "org", "rpm": 5}]), None, None),
    ("maxBatchTokens", body(embeddingLimits={"maxBatchTokens": 8192}),
     "embeddingLimits.maxBatchTokens", None),
    (
        "new capabilities",
        body(capabilities={
            "modalities": {"input": ["text"], "output": ["text"]}, "reasoning": True,
            "supportsStructuredOutputs": True, "supportsImageDetailOriginal": False,
            "supportsReasoningEffort": True,
        }),
        "capabilities.supportsStructuredOutputs",
        None,
    ),
    ("modelCard", body(modelCard=CARD), "modelCard", None),
    ("lifecycle", body(lifecycle=LIFECYCLE), "lifecycle", None),
    ("lifecycle without status", body(lifecycle={"successor": "x"}),
     "lifecycle", "lifecycle.status"),
    ("weights", body(modelCard={"weights": "shared"}), "modelCard", "modelCard.weights"),
    ("release date", body(modelCard={"releaseDate": "31/01/2025"}),
     "modelCard", "modelCard.releaseDate"),
    ("retired", body(lifecycle={"status": "gone"}), "lifecycle", "lifecycle.status"),
]  # fmt: skip


def refused_at(found: list[str], field: str | None) -> bool:
    if field is None:
        return found == []
    return any(problem.startswith(field) for problem in found)


@pytest.mark.parametrize(
    ("declared", "registry", "catalog"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_generation_accepts_and_refuses_what_its_api_does(
    declared: dict[str, Any], registry: str | None, catalog: str | None
) -> None:
    """A refused value is a problem naming its field; an accepted one is never an error.

    For the registry API an unknown top-level field is what its add schema ignores (the
    server's check) and an error in a file (the loader's strict model).
    """
    top = declared.keys() - set(definition_fields("registry"))
    if top:
        assert api_problems(declared, update=False) == []
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            Definition.model_validate(declared)
    else:
        assert refused_at(api_problems(declared, update=False), registry)
    assert refused_at(api_problems(declared, update=False, api="catalog"), catalog)
    assert refused_at(
        api_problems({"id": "team:chat", **declared}, update=True, api="catalog"), catalog
    )
    if catalog is None:
        definition_model("catalog").model_validate(declared)


@pytest.mark.parametrize(
    ("declared", "registry"), [case[1:3] for case in CASES], ids=[c[0] for c in CASES]
)
def test_the_registry_verdicts_are_the_sdks(declared: dict[str, Any], registry: str | None) -> None:
    """Each registry verdict of the table is what SDK 0.6.40 says (validate, then
    serialise back unchanged); the catalog's are checked in tests/catalog_sdk/."""
    try:
        validated = AddRegistryModelRequest.model_validate(declared, by_alias=True)
        round_trips = (
            validated.model_dump(by_alias=True, mode="json", exclude_unset=True) == declared
        )
    except ValidationError:
        round_trips = False
    assert round_trips == (registry is None)


def test_updates_per_generation() -> None:
    nulls_13 = dict.fromkeys(NULLABLE_13)
    assert api_problems(nulls_13, update=True) == []
    validated = UpdateRegistryModelRequest.model_validate(nulls_13, by_alias=True)
    assert validated.model_dump(by_alias=True, mode="json", exclude_unset=True) == nulls_13
    assert api_problems({"id": "team:chat", **nulls_13}, update=True) == [
        "id: cannot be changed by an update"
    ]
    nulls_15 = dict.fromkeys(nullable_fields("catalog"))
    assert api_problems({"id": "team:chat", **nulls_15}, update=True, api="catalog") == []
    assert api_problems(nulls_15, update=True, api="catalog") == ["id: missing required field"]
    assert api_problems({"id": "a", "provider": None}, update=True, api="catalog") == [
        "provider: not nullable; it cannot be cleared"
    ]


def test_a_field_no_template_knows_is_checked_by_its_json_type() -> None:
    """A newer SDK's field passes validation by its JSON type until a template exists."""
    data = schema_data("catalog")
    newer = dataclasses.replace(
        data,
        fields={**data.fields, "tags": "array<string>", "quota": "object", "tier": "string"},
        objects={
            **data.objects,
            "quota": ObjectShape(
                {"daily": "integer", "since": "string:date"}, frozenset({"daily"})
            ),
        },
        enums={**data.enums, "tier": ("free", "paid")},
    )
    model = derive_model(DefinitionTemplate, newer, required=("id",), base=BaseModel, name="Newer")
    declared = body(tags=["a"], quota={"daily": 5, "since": "2025-01-01"}, tier="paid")
    assert model.model_validate(declared).model_dump(by_alias=True, exclude_unset=True)[
        "quota"
    ] == {
        "daily": 5,
        "since": "2025-01-01",
    }
    for wrong in ({"tags": "a"}, {"quota": {"since": "2025-01-01"}}, {"tier": "gold"}):
        with pytest.raises(ValidationError):
            model.model_validate(body(**wrong))
