"""The catalog wire against SDK 0.12.128: every answer the local server gives in catalog
mode parses with the SDK's response models, and every body our client sends validates
with its request models and serialises back unchanged (runs in the catalog environment
only; see test_catalog_contract.py)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from registry_sync.live.client import RegistryClient
from registry_sync.testing import RegistryServer, catalog_entry, catalog_list, minimal_definition

_MODELS: Any = importlib.import_module("meetkai_mka1.models")

KEY = "sdk-wire-key"
CATALOG = "/api/v1/llm/models/catalog"
REGISTRY = "/api/v1/llm/models/registry"


def seed() -> dict[str, Any]:
    return catalog_list(
        [
            catalog_entry(minimal_definition("team:chat", rpm=5)),
            catalog_entry(
                minimal_definition("team:chat"),
                source="cluster",
                origin=None,
                active=False,
                blocker_source="byo",
            ),
            catalog_entry(minimal_definition("gpt:4o"), source="serving", origin=None),
            catalog_entry(minimal_definition("team:fixed"), origin="yaml", active=False),
            catalog_entry(
                minimal_definition("team:idle"),
                active=False,
                created_at=None,
                updated_at=None,
                health={
                    "status": "unknown",
                    "is_available": True,
                    "last_health_check": None,
                    "error": None,
                },
            ),
        ]
    )


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed(), api_key=KEY, api="catalog") as running:
        yield running


@pytest.fixture
def http(server: RegistryServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def parses(model_name: str, answer: Any) -> Any:
    """``answer`` validates with the SDK's response model ``model_name``, holding no key
    the model does not know (the SDK would drop it silently)."""
    model = getattr(_MODELS, model_name)
    parsed = model.model_validate(answer)
    fields = {info.alias or name for name, info in model.model_fields.items()}
    assert set(answer) <= fields, set(answer) - fields
    return parsed


def entry_parses(entry: dict[str, Any]) -> None:
    parsed = parses("CatalogEntry", entry)
    assert set(entry) == {info.alias or name for name, info in type(parsed).model_fields.items()}
    assert set(entry["health"]) == {"status", "is_available", "last_health_check", "error"}


def test_the_catalog_list_parses(http: httpx.Client) -> None:
    document = http.get(CATALOG).json()
    parsed = parses("CatalogListResponse", document)
    assert len(parsed.data) == 5
    for entry in document["data"]:
        entry_parses(entry)
    assert {e.activation_state for e in parsed.data} == {
        "active",
        "available",
        "available_name_blocked",
    }


def test_the_active_list_parses(http: httpx.Client) -> None:
    document = http.get(REGISTRY).json()
    parsed = parses("RegistryManagementListResponse", document)
    assert [e.model_id for e in parsed.data] == ["team:chat", "gpt:4o"]


def test_add_and_update_answers_parse(http: httpx.Client) -> None:
    added = http.post(CATALOG, json=minimal_definition("team:new")).json()
    entry_parses(added)
    updated = http.patch(CATALOG, json={"id": "team:new", "rpm": 3, "hidden": None}).json()
    entry_parses(updated)


def test_activation_answers_parse(http: httpx.Client) -> None:
    activated = http.post(REGISTRY, json={"source": "byo", "model_id": "team:idle"}).json()
    parses("RegistryEntryResponse", activated)
    again = http.post(REGISTRY, json={"source": "byo", "model_id": "team:idle"}).json()
    assert again == activated
    for name in ("team:idle", "team:idle"):
        parses("DeactivateRegistryEntryResponse", http.delete(REGISTRY, params={"id": name}).json())


def test_delete_answers_parse(http: httpx.Client) -> None:
    for name in ("team:chat", "team:idle"):
        answer = http.delete(CATALOG, params={"id": name}).json()
        parsed = parses("DeleteCatalogModelResponse", answer)
        assert parsed.deleted is True
        assert parsed.deactivated is (name == "team:chat")


def test_health_answers_parse(http: httpx.Client, server: RegistryServer) -> None:
    server.set_unhealthy("team:chat", "down")
    server.set_unknown("team:idle")
    answers = [
        http.post(f"{CATALOG}/health", params={"id": name}).json()
        for name in ("team:chat", "team:idle")
    ]
    server.set_unhealthy("team:chat", None)
    answers.append(http.post(f"{CATALOG}/health", params={"id": "team:chat"}).json())
    statuses = [parses("CatalogHealthResponse", answer).status for answer in answers]
    assert statuses == ["unavailable", "unknown", "available"]
    health_model = _MODELS.CatalogHealthResponse
    for answer in answers:
        dumped = health_model.model_validate(answer).model_dump(by_alias=True, mode="json")
        assert dumped == answer
    # The list's health after the probes parses too.
    parses("CatalogListResponse", http.get(CATALOG).json())


def round_trips(model_name: str, body: dict[str, Any]) -> bool:
    model = getattr(_MODELS, model_name)
    validated = model.model_validate(body, by_alias=True)
    return bool(validated.model_dump(by_alias=True, mode="json", exclude_unset=True) == body)


def test_every_body_the_client_sends_round_trips_through_the_sdk(server: RegistryServer) -> None:
    with RegistryClient(server.url, KEY, api="catalog") as client:
        client.add_model(minimal_definition("team:new", contextWindow=8192))
        client.update_model("team:new", {"rpm": None, "modelCard": None, "contextWindow": 1})
        client.update_model("team:new", {"lifecycle": {"status": "deprecated"}})
        client.activate("team:new", "byo")
        client.check_health("team:new")
        client.deactivate("team:new")
        client.remove_model("team:new")
    kinds = {
        ("POST", CATALOG): "AddCatalogModelRequest",
        ("PATCH", CATALOG): "UpdateCatalogModelRequest",
        ("POST", REGISTRY): "ActivateRegistryEntryRequest",
    }
    checked = 0
    for request in server.requests():
        kind = kinds.get((request.method, request.raw_path))
        if kind is None:
            assert request.body is None  # GET, DELETE and the health POST send no body
            continue
        assert round_trips(kind, request.body), (kind, request.body)
        checked += 1
    assert checked == 4
