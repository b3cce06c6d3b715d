"""The local registry's catalog mode: each rule of the catalog API, over real HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry_sync.errors import ResponseShapeError
from registry_sync.testing import (
    Fault,
    RegistryServer,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)
from registry_sync.testing.__main__ import main as serve

KEY = "catalog-server-key"
MODELS = "/api/v1/llm/models"
CATALOG = f"{MODELS}/catalog"
REGISTRY = f"{MODELS}/registry"


def seed() -> dict[str, Any]:
    return catalog_list(
        [
            catalog_entry(minimal_definition("team:chat")),
            catalog_entry(
                minimal_definition("team:chat"),
                source="serving",
                origin=None,
                active=False,
                blocker_source="byo",
            ),
            catalog_entry(minimal_definition("gpt:4o"), source="serving", origin=None),
            catalog_entry(minimal_definition("team:fixed"), origin="yaml", active=False),
            catalog_entry(
                minimal_definition("team:idle"), active=False, created_at=None, updated_at=None
            ),
        ]
    )


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed(), api_key=KEY, api="catalog") as running:
        yield running


@pytest.fixture
def http(server: RegistryServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        yield client


def error(response: httpx.Response) -> str:
    document = response.json()
    assert set(document) == {"error"}
    return str(document["error"]["message"])


def test_the_catalog_is_served_as_seeded(http: httpx.Client) -> None:
    response = http.get(CATALOG)
    assert response.status_code == 200
    assert response.json() == seed()


def test_the_registry_lists_the_active_names_only(http: httpx.Client) -> None:
    document = http.get(REGISTRY).json()
    assert set(document) == {"object", "data"}
    assert [(e["model_id"], e["source"]) for e in document["data"]] == [
        ("team:chat", "byo"),
        ("gpt:4o", "serving"),
    ]


@pytest.mark.parametrize(
    "path",
    [f"{REGISTRY}/team%3Achat", f"{REGISTRY}/team%3Achat/health", f"{CATALOG}/team%3Achat"],
)
def test_the_registry_generations_paths_are_gone(http: httpx.Client, path: str) -> None:
    for method in ("GET", "PATCH", "DELETE", "POST"):
        assert http.request(method, path).status_code == 404


def test_a_registry_mode_server_has_no_catalog(registry_server: RegistryServer) -> None:
    headers = {"Authorization": "Bearer test-key"}
    assert httpx.get(registry_server.url + CATALOG, headers=headers).status_code == 404


def test_other_methods_are_not_allowed(http: httpx.Client) -> None:
    assert http.put(CATALOG, json={}).status_code == 405
    assert http.patch(REGISTRY, json={}).status_code == 405


def test_auth_is_required(server: RegistryServer) -> None:
    assert httpx.get(server.url + CATALOG).status_code == 401


# --- definitions ----------------------------------------------------------------------


def test_add_defines_a_byo_model_without_activating(
    http: httpx.Client, server: RegistryServer
) -> None:
    response = http.post(CATALOG, json=minimal_definition("team:new", rpm=None))
    assert response.status_code == 200
    entry = response.json()
    assert (entry["model_id"], entry["source"], entry["origin"], entry["activation_state"]) == (
        "team:new",
        "byo",
        "api",
        "available",
    )
    assert entry["definition"] == minimal_definition("team:new")
    assert entry["health"] == {
        "status": "unknown",
        "is_available": True,
        "last_health_check": None,
        "error": None,
    }
    assert entry["effective_price"] == {"rates": None, "source": "unpriced"}
    assert "team:new" not in server.active()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (minimal_definition("team:x", apiProviderType="azure"), "apiProviderType"),
        (minimal_definition("team:x", newField=1), "newField: not a field"),
        ({k: v for k, v in minimal_definition("team:x").items() if k != "auth"}, "auth"),
        (["not", "an", "object"], "must be a JSON object"),
    ],
    ids=["azure", "unknown key", "missing auth", "list"],
)
def test_add_refuses_what_the_sdk_would_not_send(http: httpx.Client, body: Any, field: str) -> None:
    response = http.post(CATALOG, json=body)
    assert response.status_code == 400
    assert field in error(response)


@pytest.mark.parametrize(
    ("model_id", "reason"),
    [("team:chat", "it exists"), ("team:fixed", "yaml-origin definitions cannot be overridden")],
)
def test_add_of_an_existing_byo_id_is_409(http: httpx.Client, model_id: str, reason: str) -> None:
    response = http.post(CATALOG, json=minimal_definition(model_id))
    assert response.status_code == 409
    assert reason in error(response)


def test_add_beside_a_platform_definition_is_allowed(http: httpx.Client) -> None:
    entry = http.post(CATALOG, json=minimal_definition("gpt:4o")).json()
    assert (entry["activation_state"], entry["blocker_source"]) == (
        "available_name_blocked",
        "serving",
    )


def test_update_merges_the_top_level_and_clears_nulls(http: httpx.Client) -> None:
    body = {"id": "team:idle", "rpm": 9, "contextWindow": 100}
    first = http.patch(CATALOG, json=body).json()
    second = http.patch(CATALOG, json={"id": "team:idle", "rpm": None}).json()
    assert first["definition"]["rpm"] == 9
    assert "rpm" not in second["definition"]
    assert second["definition"]["contextWindow"] == 100
    assert second["updated_at"] > first["updated_at"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"rpm": 1}, 400, "id: missing required field"),
        ({"id": "team:chat", "provider": None}, 400, "provider: not nullable"),
        ({"id": "team:chat", "extra": 1}, 400, "extra: not a field"),
        ({"id": "team:none", "rpm": 1}, 404, "model team:none not found"),
        ({"id": "team:fixed", "rpm": 1}, 403, "yaml-origin"),
    ],
    ids=["no id", "not nullable", "unknown key", "missing", "yaml"],
)
def test_update_refusals(http: httpx.Client, body: Any, status: int, message: str) -> None:
    response = http.patch(CATALOG, json=body)
    assert response.status_code == status
    assert message in error(response)


def test_update_and_delete_of_a_platform_definition_are_403(
    http: httpx.Client, server: RegistryServer
) -> None:
    before = server.catalog()
    patched = http.patch(CATALOG, json={"id": "gpt:4o", "rpm": 1})
    deleted = http.delete(CATALOG, params={"id": "gpt:4o"})
    for response in (patched, deleted):
        assert response.status_code == 403
        assert "defined by serving only" in error(response)
    assert server.catalog() == before


def test_delete_deactivates_a_name_the_byo_definition_served(
    http: httpx.Client, server: RegistryServer
) -> None:
    response = http.delete(CATALOG, params={"id": "team:chat"})
    assert response.json() == {"id": "team:chat", "deleted": True, "deactivated": True}
    assert "team:chat" not in server.active()
    [left] = [e for e in server.catalog()["data"] if e["model_id"] == "team:chat"]
    assert (left["source"], left["activation_state"]) == ("serving", "available")
    idle = http.delete(CATALOG, params={"id": "team:idle"})
    assert idle.json() == {"id": "team:idle", "deleted": True, "deactivated": False}


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 400), ("id=", 400), ("id=a&id=b", 400), ("id=team%3Afixed", 403), ("id=x%3Ay", 404)],
)
def test_delete_refusals(http: httpx.Client, query: str, status: int) -> None:
    assert http.delete(f"{CATALOG}?{query}").status_code == status


# --- activation ---------------------------------------------------------------------


def test_activate_answers_a_registry_entry_and_is_idempotent(
    http: httpx.Client, server: RegistryServer
) -> None:
    body = {"source": "byo", "model_id": "team:idle"}
    first = http.post(REGISTRY, json=body)
    again = http.post(REGISTRY, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert set(first.json()) == {"model_id", "source", "activated_by", "activated_at"}
    assert first.json()["activated_at"].endswith("Z")
    assert server.active()["team:idle"] == "byo"
    [entry] = [e for e in http.get(REGISTRY).json()["data"] if e["model_id"] == "team:idle"]
    assert entry["activated_at"] == first.json()["activated_at"]


def test_activate_from_another_source_is_409_naming_the_holder(http: httpx.Client) -> None:
    response = http.post(REGISTRY, json={"source": "serving", "model_id": "team:chat"})
    assert response.status_code == 409
    assert error(response) == ("model name team:chat is held by source 'byo'; deactivate it first")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"source": "cluster", "model_id": "team:chat"}, 404),
        ({"source": "byo", "model_id": "team:none"}, 404),
        ({"source": "partner", "model_id": "team:chat"}, 400),
        ({"model_id": "team:chat"}, 400),
        ({"source": "byo", "model_id": "team:idle", "note": "x"}, 400),
        ({"source": "byo", "model_id": 3}, 400),
    ],
    ids=["source defines nothing", "unknown name", "bad source", "no source", "extra", "id"],
)
def test_activate_refusals(http: httpx.Client, body: Any, status: int) -> None:
    assert http.post(REGISTRY, json=body).status_code == status


def test_deactivate_keeps_the_definition(http: httpx.Client, server: RegistryServer) -> None:
    response = http.delete(REGISTRY, params={"id": "gpt:4o"})
    assert response.json() == {"id": "gpt:4o", "deactivated": True}
    assert "gpt:4o" not in server.active()
    assert any(e["model_id"] == "gpt:4o" for e in server.catalog()["data"])
    # Idempotent, as the SDK documents it: a defined name serving nothing answers false.
    assert http.delete(REGISTRY, params={"id": "gpt:4o"}).json() == {
        "id": "gpt:4o",
        "deactivated": False,
    }
    assert http.delete(REGISTRY, params={"id": "team:none"}).status_code == 404


def test_a_switch_between_sources_is_deactivate_then_activate(
    http: httpx.Client, server: RegistryServer
) -> None:
    assert http.delete(REGISTRY, params={"id": "team:chat"}).status_code == 200
    assert http.post(REGISTRY, json={"source": "serving", "model_id": "team:chat"}).is_success
    states = {e["source"]: e for e in server.catalog()["data"] if e["model_id"] == "team:chat"}
    assert states["byo"]["activation_state"] == "available_name_blocked"
    assert states["byo"]["blocker_source"] == "serving"
    assert states["serving"]["activation_state"] == "active"


# --- health and switches ------------------------------------------------------------


def test_health_probes_the_byo_definition(http: httpx.Client, server: RegistryServer) -> None:
    response = http.post(f"{CATALOG}/health", params={"id": "team:idle"})
    answer = response.json()
    assert set(answer) == {"status", "is_available", "checked_at"}
    assert (answer["status"], answer["is_available"]) == ("available", True)
    [entry] = [e for e in server.catalog()["data"] if e["model_id"] == "team:idle"]
    assert entry["health"]["last_health_check"] == answer["checked_at"]
    assert http.post(f"{CATALOG}/health", params={"id": "gpt:4o"}).status_code == 404


def test_unhealthy_and_unknown_switches(http: httpx.Client, server: RegistryServer) -> None:
    server.set_unhealthy("team:chat", "upstream down")
    answer = http.post(f"{CATALOG}/health", params={"id": "team:chat"}).json()
    assert answer | {"checked_at": 0} == {
        "status": "unavailable",
        "is_available": False,
        "checked_at": 0,
        "error": "upstream down",
    }
    listed = [e["health"] for e in server.catalog()["data"] if e["model_id"] == "team:chat"]
    assert all(health["status"] == "unavailable" for health in listed)
    server.set_unhealthy("team:chat", None)
    server.set_unknown("team:chat")
    answer = http.post(f"{CATALOG}/health", params={"id": "team:chat"}).json()
    assert (answer["status"], answer["is_available"], "error" in answer) == (
        "unknown",
        True,
        False,
    )
    [entry] = [e for e in server.catalog()["data"] if e["model_id"] == "team:chat"][:1]
    assert entry["health"] == {
        "status": "unknown",
        "is_available": True,
        "last_health_check": None,
        "error": None,
    }
    server.set_unknown("team:chat", False)
    assert http.post(f"{CATALOG}/health", params={"id": "team:chat"}).json()["status"] == (
        "available"
    )


def test_an_added_id_already_switched_unhealthy_says_so() -> None:
    with RegistryServer(api="catalog", unhealthy={"team:new": "down"}) as server:
        headers = {"Authorization": "Bearer test-key"}
        body = minimal_definition("team:new")
        entry = httpx.post(server.url + CATALOG, json=body, headers=headers).json()
    assert entry["health"]["status"] == "unavailable"


def test_faults_rate_limit_and_latency_work_in_catalog_mode(server: RegistryServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    server.inject(Fault("status", status=503, path_contains="catalog"))
    assert httpx.get(server.url + CATALOG, headers=headers).status_code == 503
    server.inject(Fault("malformed", body="nope", method="POST"))
    assert httpx.post(server.url + REGISTRY, json={}, headers=headers).text == "nope"
    server.latency = 0.05
    assert httpx.get(server.url + CATALOG, headers=headers).status_code == 200
    server.latency = 0.0
    with RegistryServer(seed(), api_key=KEY, api="catalog", rate_limit=1) as limited:
        codes = [httpx.get(limited.url + CATALOG, headers=headers).status_code for _ in range(3)]
    assert 429 in codes


def test_requests_record_the_raw_query(http: httpx.Client, server: RegistryServer) -> None:
    http.delete(f"{CATALOG}?id=a%2Fb%3Fc%23d")
    request = server.requests()[-1]
    assert (request.raw_path, request.raw_query) == (CATALOG, "id=a%2Fb%3Fc%23d")


def test_entries_is_for_registry_mode_only(server: RegistryServer) -> None:
    assert server.entry_count == 5
    with pytest.raises(RuntimeError, match="catalog"):
        server.entries()


# --- seeds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        list_response([registry_model(minimal_definition("team:chat"))]),
        catalog_list(
            [
                catalog_entry(minimal_definition("team:chat")),
                catalog_entry(minimal_definition("team:chat"), source="serving"),
            ]
        ),
    ],
    ids=["a registry seed", "two active sources"],
)
def test_a_bad_catalog_seed_fails_loudly(document: dict[str, Any]) -> None:
    with pytest.raises(ResponseShapeError):
        RegistryServer(document, api="catalog")


def test_a_name_blocked_by_an_unlisted_source_stays_blocked() -> None:
    document = catalog_list(
        [catalog_entry(minimal_definition("x:y"), active=False, blocker_source="cluster")]
    )
    with RegistryServer(document, api="catalog") as server:
        headers = {"Authorization": "Bearer test-key"}
        response = httpx.post(
            server.url + REGISTRY, json={"source": "byo", "model_id": "x:y"}, headers=headers
        )
        assert response.status_code == 409
        assert server.catalog() == document


def test_a_catalog_seed_is_refused_by_a_registry_mode_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed()), encoding="utf-8")
    assert serve(["--seed", str(seed_file)]) == 1
    assert "cannot start the registry server" in capsys.readouterr().err


def test_the_cli_serves_the_catalog_with_its_switches(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed()), encoding="utf-8")
    command = [sys.executable, "-m", "registry_sync.testing", "--seed", str(seed_file)]
    switches = ["--api", "catalog", "--unhealthy", "team:chat=down", "--unknown", "team:idle"]
    with subprocess.Popen(
        [*command, "--api-key", "demo-key", *switches],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        url = banner[0].split()[4]
        auth = {"Authorization": "Bearer demo-key"}
        listed = httpx.get(url + CATALOG, headers=auth)
        probes = [
            httpx.post(url + f"{CATALOG}/health", params={"id": name}, headers=auth).json()
            for name in ("team:chat", "team:idle")
        ]
        gone = httpx.get(url + f"{REGISTRY}/team%3Achat", headers=auth)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert "(5 definitions; catalog API)" in banner[0]
    assert listed.status_code == 200
    assert [probe["status"] for probe in probes] == ["unavailable", "unknown"]
    assert gone.status_code == 404
    assert f"GET {CATALOG} -> 200" in stderr
    assert process.returncode == 0
