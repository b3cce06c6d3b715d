"""Parsing live entries: server-owned fields dropped, wrong shapes refused (fail closed)."""

from __future__ import annotations

from typing import Any

import pytest

from registry_sync.errors import ResponseShapeError
from registry_sync.live.entries import LiveHealth, parse_entry, parse_list_response
from registry_sync.schema.server import without_nulls


def entry(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": "meetkai:chat",
        "provider": "openai-compatible",
        "model_id": "chat",
        "source": "database",
        "immutable": False,
        "definition": {
            "id": "meetkai:chat",
            "provider": "openai-compatible",
            "modelId": "chat",
            "source": "database",
            "immutable": False,
        },
        "health": {"is_available": True, "last_health_check": None, "error": None},
        "created_at": None,
        "updated_at": 1704153600000,
    }
    document.update(overrides)
    return document


def test_server_owned_fields_are_not_part_of_the_definition() -> None:
    parsed = parse_entry(entry(), "test")
    assert parsed.definition == {
        "id": "meetkai:chat",
        "provider": "openai-compatible",
        "modelId": "chat",
    }
    assert (parsed.immutable, parsed.source, parsed.updated_at) == (
        False,
        "database",
        1704153600000,
    )


def test_unknown_definition_fields_are_kept() -> None:
    document = entry()
    document["definition"]["newServerField"] = {"x": 1}
    assert parse_entry(document, "test").definition["newServerField"] == {"x": 1}


def test_definition_without_id_gets_the_entry_id() -> None:
    document = entry()
    del document["definition"]["id"]
    assert parse_entry(document, "test").definition["id"] == "meetkai:chat"


def test_empty_list_is_an_empty_registry() -> None:
    assert parse_list_response({"object": "list", "data": []}, "test") == []


@pytest.mark.parametrize(
    ("document", "where", "what"),
    [
        (None, "", "expected a JSON object, got null"),
        ({"data": []}, "object", "expected 'list', got None"),
        ({"object": "list"}, "data", "expected a list, got null"),
        ({"object": "list", "data": [1]}, "data[0]", "expected a JSON object, got a number"),
        ({"object": "list", "data": [entry(id=None)]}, "data[0].id", "expected a string, got null"),
        (
            {"object": "list", "data": [entry(immutable="no")]},
            "data[0].immutable",
            "expected a boolean",
        ),
        ({"object": "list", "data": [entry(source=None)]}, "data[0].source", "expected a string"),
        ({"object": "list", "data": [entry(definition=[])]}, "data[0].definition", "got a list"),
        ({"object": "list", "data": [entry(updated_at="x")]}, "data[0].updated_at", "epoch"),
        ({"object": "list", "data": [entry(), entry()]}, "data[1].id", "repeats data[0]"),
        (
            {"object": "list", "data": [entry(id="other:id")]},
            "data[0].definition.id",
            "differs from the entry id",
        ),
    ],
)
def test_wrong_shapes_are_errors(document: object, where: str, what: str) -> None:
    with pytest.raises(ResponseShapeError) as info:
        parse_list_response(document, "GET /x")
    assert info.value.where == where
    assert what in info.value.what
    assert str(info.value).startswith("unexpected response from GET /x")
    assert "refusing to treat it as the registry's state" in str(info.value)


def test_fingerprint_ignores_nothing_but_hides_secrets() -> None:
    plain = parse_entry(entry(), "t")
    document = entry()
    document["definition"]["auth"] = {"type": "api-key", "value": "sk-abcdefghijklmnop123456"}
    secret = parse_entry(document, "t")
    assert plain.fingerprint() != secret.fingerprint()
    newer = parse_entry(entry(updated_at=1704153600001), "t")
    assert newer.fingerprint() != plain.fingerprint()


def test_a_null_in_a_live_definition_means_absent_at_any_depth() -> None:
    definition = {
        "provider": "p",
        "hidden": None,
        "capabilities": {"reasoning": False, "supportsTopP": None},
        "rateLimits": [{"scope": "global", "rpm": 1, "queue": None}],
    }
    entry = parse_entry(
        {"id": "a:b", "immutable": False, "source": "database", "definition": definition},
        "test",
    )
    assert entry.definition == {
        "id": "a:b",
        "provider": "p",
        "capabilities": {"reasoning": False},
        "rateLimits": [{"scope": "global", "rpm": 1}],
    }


def test_a_definition_without_nulls_is_kept_as_it_is() -> None:
    definition = {"id": "a:b", "provider": "p", "capabilities": {"reasoning": False}}
    assert without_nulls(definition) is definition


def test_health_is_parsed_and_takes_no_part_in_equality_or_the_fingerprint() -> None:
    down = {"is_available": False, "last_health_check": 5, "error": "no route\n to host"}
    healthy = parse_entry(entry(), "test")
    unhealthy = parse_entry(entry(health=down), "test")

    assert healthy.health == LiveHealth(True, None, None)
    assert unhealthy.health == LiveHealth(False, 5, "no route to host")
    assert healthy == unhealthy
    assert healthy.fingerprint() == unhealthy.fingerprint()
    assert parse_entry(entry(health=None), "test").health is None


@pytest.mark.parametrize(
    ("health", "where"),
    [
        ("down", "health"),
        ({"is_available": "no"}, "health.is_available"),
        ({"is_available": True, "last_health_check": "today"}, "health.last_health_check"),
        ({"is_available": False, "error": 3}, "health.error"),
    ],
)
def test_health_of_the_wrong_shape_fails_closed(health: Any, where: str) -> None:
    with pytest.raises(ResponseShapeError) as caught:
        parse_entry(entry(health=health), "test")
    assert caught.value.where == where
