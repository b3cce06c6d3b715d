"""The factories build documents the official SDK and our own parser both accept."""

from __future__ import annotations

from typing import Any

from meetkai_mka1.models import (
    AddRegistryModelRequest,
    RegistryModelListResponse,
    RegistryModelResponse,
)

from registry_sync.live.entries import parse_list_response
from registry_sync.schema.definition import Definition
from registry_sync.testing import list_response, minimal_definition, registry_model

CHECKED = {"is_available": False, "last_health_check": 1735689600000, "error": "timeout"}


def test_a_minimal_definition_is_valid_for_the_sdk_and_for_us() -> None:
    body = minimal_definition("team:chat", contextWindow=8192)

    Definition.model_validate(body)
    AddRegistryModelRequest.model_validate(body, by_alias=True)
    assert list(body)[:8] == [
        "id",
        "provider",
        "modelId",
        "apiFormat",
        "apiProviderType",
        "created",
        "auth",
        "capabilities",
    ]
    assert (body["modelId"], body["contextWindow"]) == ("team:chat", 8192)


def test_fields_replace_the_minimal_values_in_place() -> None:
    body = minimal_definition("team:embed", apiFormat="embeddings", created=1)

    assert list(body) == list(minimal_definition("team:embed"))
    assert (body["apiFormat"], body["created"]) == ("embeddings", 1)


def test_registry_models_validate_with_the_sdk() -> None:
    database = registry_model(minimal_definition("team:chat"))
    read_only = registry_model(
        minimal_definition("system:chat", provider="meetkai"),
        immutable=True,
        health=CHECKED,
        created_at=None,
        updated_at=None,
    )

    for entry in (database, read_only):
        RegistryModelResponse.model_validate(entry)
    listed = RegistryModelListResponse.model_validate(list_response([database, read_only]))

    assert [model.id for model in listed.data] == ["team:chat", "system:chat"]
    assert [(model.source, model.immutable) for model in listed.data] == [
        ("database", False),
        ("yaml", True),
    ]
    assert (read_only["provider"], read_only["model_id"]) == ("meetkai", "system:chat")
    assert read_only["health"] == CHECKED
    assert read_only["definition"]["source"] == "yaml"
    assert read_only["definition"]["immutable"] is True


def test_a_list_response_parses_back_to_the_same_definitions() -> None:
    definitions = [
        minimal_definition("team:chat", contextWindow=8192),
        minimal_definition("system:embed", apiFormat="embeddings"),
    ]
    document = list_response(
        [
            registry_model(definitions[0], updated_at=1704153600001),
            registry_model(definitions[1], immutable=True, source="config"),
        ]
    )

    entries = parse_list_response(document, "factories")

    assert [entry.definition for entry in entries] == definitions
    assert [(entry.immutable, entry.source) for entry in entries] == [
        (False, "database"),
        (True, "config"),
    ]
    assert entries[0].updated_at == 1704153600001


def test_echoed_keys_in_the_definition_are_the_entry_own() -> None:
    body: dict[str, Any] = {**minimal_definition("team:chat"), "source": "x", "immutable": False}

    entry = registry_model(body, immutable=True)

    assert entry["definition"] == {
        **minimal_definition("team:chat"),
        "source": "yaml",
        "immutable": True,
    }


def test_nothing_passed_in_is_shared_with_the_result() -> None:
    body = minimal_definition("team:chat")
    health = dict(CHECKED)
    entry = registry_model(body, health=health)
    document = list_response([entry])

    body["capabilities"]["reasoning"] = True
    health["error"] = None
    document["data"][0]["definition"]["auth"]["type"] = "api-key"

    assert entry["definition"]["capabilities"]["reasoning"] is False
    assert entry["health"]["error"] == "timeout"
    assert entry["definition"]["auth"] == {"type": "none"}
