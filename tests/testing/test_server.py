"""The local registry server, driven over real HTTP with plain httpx.

The server is a test double of the real API, so these tests pin the behaviour the
rest of the suite relies on: the API reference's rules, the faults and the log.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from meetkai_mka1.models import (
    DeleteRegistryModelResponse,
    HealthCheckResponse,
    RegistryModelListResponse,
    RegistryModelResponse,
)

from registry_sync.errors import ResponseShapeError
from registry_sync.testing import Fault, RegistryServer, StoreRules, list_response, registry_model
from registry_sync.testing.__main__ import main as serve

BASE = "/api/v1/llm/models/registry"
IMMUTABLE = "meetkai:functionary-medium-v3"
CHAT = "meetkai:my-custom-chat-v1"
EMBED = "meetkai:embed-small-v1"


# One TLS context for every client: creating one per client costs ~30 ms.
TLS = httpx.create_ssl_context()


def request(method: str, url: str, **options: Any) -> httpx.Response:
    """One request on a fresh connection, as a separate process would send it."""
    with httpx.Client(verify=TLS, timeout=5) as client:
        return client.request(method, url, **options)


def path_of(model_id: str) -> str:
    return f"{BASE}/{model_id.replace(':', '%3A').replace('/', '%2F')}"


def new_definition(model_id: str = "meetkai:new-model-v1") -> dict[str, Any]:
    return {
        "id": model_id,
        "provider": "openai-compatible",
        "modelId": "new-model",
        "apiFormat": "responses",
        "apiProviderType": "openai",
        "created": 1717200000,
        "auth": {"type": "api-key", "envVar": "NEW_MODEL_KEY"},
        "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
    }


@pytest.fixture
def http(registry_server: RegistryServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer test-key"}
    with httpx.Client(
        base_url=registry_server.url, headers=headers, timeout=5, verify=TLS
    ) as client:
        yield client


def error_message(response: httpx.Response) -> str:
    message = response.json()["error"]["message"]
    assert isinstance(message, str)
    return message


# -- the endpoints -----------------------------------------------------------------


def test_list_returns_every_seeded_entry_in_order(http: httpx.Client) -> None:
    response = http.get(BASE)

    assert response.status_code == 200
    document = response.json()
    assert document["object"] == "list"
    assert [item["id"] for item in document["data"]] == [
        IMMUTABLE,
        CHAT,
        EMBED,
        "meetkai:vision-router-v1",
    ]
    immutable = document["data"][0]
    assert (immutable["source"], immutable["immutable"]) == ("yaml", True)
    assert immutable["definition"]["immutable"] is True


def test_get_decodes_the_percent_encoded_id(http: httpx.Client) -> None:
    response = http.get(path_of(CHAT))

    assert response.status_code == 200
    assert response.json()["id"] == CHAT
    assert response.json()["model_id"] == "my-custom-chat-v1"


def test_an_encoded_slash_belongs_to_the_id(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    assert http.post(BASE, json=new_definition("org/team:model")).status_code == 200

    assert http.get(path_of("org/team:model")).json()["id"] == "org/team:model"
    health = http.post(f"{path_of('org/team:model')}/health")
    assert health.status_code == 200


def test_add_stores_a_database_entry(http: httpx.Client, registry_server: RegistryServer) -> None:
    response = http.post(BASE, json=new_definition())

    assert response.status_code == 200
    entry = response.json()
    assert entry["id"] == "meetkai:new-model-v1"
    assert (entry["provider"], entry["model_id"]) == ("openai-compatible", "new-model")
    assert (entry["source"], entry["immutable"]) == ("database", False)
    assert entry["definition"] == {**new_definition(), "source": "database", "immutable": False}
    assert entry["created_at"] == entry["updated_at"]
    assert isinstance(entry["created_at"], int)
    assert registry_server.entries()["meetkai:new-model-v1"] == entry


def test_delete_removes_the_entry(http: httpx.Client, registry_server: RegistryServer) -> None:
    response = http.delete(path_of(EMBED))

    assert (response.status_code, response.json()) == (200, {"deleted": True})
    assert EMBED not in registry_server.entries()
    assert http.get(path_of(EMBED)).status_code == 404


def test_health_probe_answers_and_records_the_check(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    response = http.post(f"{path_of(CHAT)}/health")

    assert response.status_code == 200
    answer = response.json()
    assert answer["is_available"] is True
    assert registry_server.entries()[CHAT]["health"]["last_health_check"] == answer["checked_at"]


def test_an_id_made_unhealthy_answers_unavailable_with_its_error(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.set_unhealthy(CHAT, "baseUrl answered 502")

    answer = http.post(f"{path_of(CHAT)}/health").json()
    listed = {item["id"]: item["health"] for item in http.get(BASE).json()["data"]}

    assert HealthCheckResponse.model_validate(answer).error == "baseUrl answered 502"
    assert answer == {
        "is_available": False,
        "checked_at": answer["checked_at"],
        "error": "baseUrl answered 502",
    }
    assert listed[CHAT] == {
        "is_available": False,
        "last_health_check": answer["checked_at"],
        "error": "baseUrl answered 502",
    }
    assert listed[EMBED]["is_available"] is True
    assert registry_server.unhealthy == {CHAT: "baseUrl answered 502"}


def test_an_unhealthy_id_recovers_when_switched_back_and_stays_so_when_re_created(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.set_unhealthy("meetkai:new-model-v1")
    created = http.post(BASE, json=new_definition()).json()
    probed = http.post(f"{path_of('meetkai:new-model-v1')}/health").json()
    registry_server.set_unhealthy("meetkai:new-model-v1", None)
    recovered = http.post(f"{path_of('meetkai:new-model-v1')}/health").json()

    assert created["health"]["is_available"] is False
    assert probed["error"] == "upstream unreachable: connection refused"
    assert recovered == {"is_available": True, "checked_at": recovered["checked_at"]}
    assert registry_server.entries()["meetkai:new-model-v1"]["health"]["error"] is None


def test_unhealthy_ids_given_at_start_are_unhealthy(registry_seed: dict[str, Any]) -> None:
    with RegistryServer(registry_seed, unhealthy={CHAT: "down"}) as server:
        health = server.entries()[CHAT]["health"]

    assert (health["is_available"], health["error"]) == (False, "down")


def test_every_response_is_valid_for_the_official_sdk(http: httpx.Client) -> None:
    RegistryModelListResponse.model_validate(http.get(BASE).json())
    RegistryModelResponse.model_validate(http.get(path_of(IMMUTABLE)).json())
    RegistryModelResponse.model_validate(http.post(BASE, json=new_definition()).json())
    RegistryModelResponse.model_validate(http.patch(path_of(CHAT), json={"rpm": 60}).json())
    HealthCheckResponse.model_validate(http.post(f"{path_of(CHAT)}/health").json())
    DeleteRegistryModelResponse.model_validate(http.delete(path_of(CHAT)).json())
    RegistryModelListResponse.model_validate(http.get(BASE).json())


# -- PATCH merge -------------------------------------------------------------------


def test_patch_replaces_given_top_level_fields_and_keeps_the_rest(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    before = registry_server.entries()[CHAT]
    capabilities = {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": True}

    response = http.patch(
        path_of(CHAT), json={"rpm": 1200, "capabilities": capabilities, "provider": "groq"}
    )

    assert response.status_code == 200
    after = response.json()
    expected = {**before["definition"], "rpm": 1200, "capabilities": capabilities}
    expected["provider"] = "groq"
    # The nested value is replaced whole: supportsTemperature is gone.
    assert after["definition"] == expected
    assert after["provider"] == "groq"
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    assert registry_server.entries()[CHAT] == after


def test_every_patch_moves_updated_at_forward(http: httpx.Client) -> None:
    stamps = [http.patch(path_of(CHAT), json={"rpm": n}).json()["updated_at"] for n in range(5)]

    assert stamps == sorted(set(stamps))


# -- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("PATCH", path_of(IMMUTABLE), {"rpm": 1}, 403, "YAML models cannot be updated"),
        ("DELETE", path_of(IMMUTABLE), None, 403, "YAML models cannot be removed"),
        ("POST", BASE, new_definition(IMMUTABLE), 409, "YAML models cannot be overridden"),
        ("POST", BASE, new_definition(CHAT), 409, "already exists"),
        ("PATCH", path_of(CHAT), {"id": CHAT, "rpm": 1}, 400, "id: cannot be changed"),
        ("PATCH", path_of(CHAT), [1], 400, "must be a JSON object"),
        ("PATCH", path_of("meetkai:nope"), {"rpm": 1}, 404, "meetkai:nope not found"),
        ("DELETE", path_of("meetkai:nope"), None, 404, "meetkai:nope not found"),
        ("GET", path_of("meetkai:nope"), None, 404, "meetkai:nope not found"),
        ("POST", f"{path_of('meetkai:nope')}/health", None, 404, "not found"),
        ("POST", BASE, {**new_definition(), "rpm": "1"}, 400, "rpm: Input should be"),
        ("PATCH", path_of(CHAT), {"provider": None}, 400, "provider: not nullable"),
        ("PATCH", path_of(CHAT), {"hidden": "no"}, 400, "hidden: Input should be"),
        ("PATCH", path_of(CHAT), {"auth": {"type": "x"}}, 400, "auth: Input tag 'x'"),
        (
            "PATCH",
            path_of(CHAT),
            {"healthCheck": {"url": "https://h.example.com", "method": "GET"}},
            400,
            "healthCheck: expected mode",
        ),
        ("GET", f"{BASE}/cluster", None, 404, "cluster endpoints"),
        ("POST", f"{BASE}/cluster/nodes", {}, 404, "cluster endpoints"),
        ("POST", BASE, "text", 400, "must be a JSON object"),
        ("PUT", path_of(CHAT), {"rpm": 1}, 405, "PUT is not allowed"),
        ("DELETE", BASE, None, 405, "DELETE is not allowed"),
        ("GET", "/api/v1/other", None, 404, "no route"),
        ("GET", f"{path_of(CHAT)}/extra/parts", None, 404, "no route"),
    ],
)
def test_refusals(
    http: httpx.Client,
    registry_server: RegistryServer,
    method: str,
    path: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    before = registry_server.entries()

    response = http.request(method, path, json=body)

    assert response.status_code == status
    assert message in error_message(response)
    assert registry_server.entries() == before


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (["provider"], "invalid request body: provider: missing required field"),
        (
            ["auth", "capabilities"],
            "invalid request body: auth: missing required field; capabilities: missing "
            "required field",
        ),
        (["id"], "invalid request body: id: missing required field"),
        (["created"], "invalid request body: created: missing required field"),
        (["apiProviderType"], "invalid request body: apiProviderType: missing required field"),
    ],
)
def test_add_names_the_missing_required_fields(
    http: httpx.Client, missing: list[str], message: str
) -> None:
    body = {k: v for k, v in new_definition().items() if k not in missing}

    response = http.post(BASE, json=body)

    assert response.status_code == 400
    assert error_message(response) == message


def test_add_accepts_what_the_api_schema_accepts(http: httpx.Client) -> None:
    # No minimums, no envVar needed, unknown top-level fields ignored: as the SDK.
    body = {
        **new_definition(),
        "auth": {"type": "api-key"},
        "contextWindow": 0,
        "rpm": -1,
        "futureField": {"x": 1},
    }

    assert http.post(BASE, json=body).status_code == 200
    with_nulls = {**new_definition("meetkai:nulls"), "rpm": None, "healthCheck": None}
    added = http.post(BASE, json=with_nulls)
    assert added.status_code == 200
    assert "rpm" not in added.json()["definition"]
    refused = http.post(BASE, json={**new_definition("meetkai:x"), "provider": None})
    assert refused.status_code == 400
    assert "provider: Input should be a valid string" in error_message(refused)


@pytest.mark.parametrize(("store_nulls", "stored"), [(False, {}), (True, {"rpm": None})])
def test_a_patch_null_clears_a_nullable_field_or_stores_it(
    store_nulls: bool, stored: dict[str, Any]
) -> None:
    seed = list_response([registry_model({**new_definition(), "rpm": 60, "hidden": True})])
    with RegistryServer(seed=seed, store=StoreRules(store_nulls=store_nulls)) as server:
        response = request(
            "PATCH",
            f"{server.url}{path_of('meetkai:new-model-v1')}",
            json={"rpm": None},
            headers={"Authorization": "Bearer test-key"},
        )
        assert response.status_code == 200
        definition = server.entries()["meetkai:new-model-v1"]["definition"]
    assert {k: v for k, v in definition.items() if k == "rpm"} == stored
    assert definition["hidden"] is True


def test_fill_defaults_fills_what_an_add_omits() -> None:
    defaults = {"hidden": False, "capabilities.supportsTopP": True}
    with RegistryServer(store=StoreRules(fill_defaults=defaults)) as server:
        headers = {"Authorization": "Bearer test-key"}
        url = f"{server.url}{BASE}"
        assert request("POST", url, json=new_definition(), headers=headers).status_code == 200
        declared = {**new_definition("meetkai:declared"), "hidden": True}
        assert request("POST", url, json=declared, headers=headers).status_code == 200
        entries = server.entries()
    filled = entries["meetkai:new-model-v1"]["definition"]
    assert filled["hidden"] is False and filled["capabilities"]["supportsTopP"] is True
    assert entries["meetkai:declared"]["definition"]["hidden"] is True


def test_a_body_that_is_not_json_is_refused(http: httpx.Client) -> None:
    response = http.patch(
        path_of(CHAT), content=b"{rpm: 1", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert error_message(response) == "the request body is not valid JSON"


# -- auth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-key", 401),
        ("test-key", 401),
        ("Basic dGVzdC1rZXk6", 401),
        ("Bearer reader-key", 403),
        ("Bearer test-key", 200),
    ],
)
def test_every_request_needs_the_admin_key(
    registry_seed: dict[str, Any], authorization: str | None, status: int
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with RegistryServer(
        seed=registry_seed, api_key="test-key", non_admin_key="reader-key"
    ) as server:
        for method, path in [("GET", BASE), ("PATCH", path_of(CHAT)), ("DELETE", path_of(EMBED))]:
            body = {"rpm": 1} if method == "PATCH" else None
            response = request(method, server.url + path, headers=headers, json=body, timeout=5)

            assert response.status_code == status
            if status != 200:
                assert error_message(response)
                assert "test-key" not in response.text
        if status != 200:
            assert server.entries() == RegistryServer(seed=registry_seed).entries()


# -- faults ------------------------------------------------------------------------


def test_rate_limit_fault_sends_429_with_retry_after(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("rate-limit", retry_after="7"))

    limited = http.get(BASE)

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert http.get(BASE).status_code == 200


def test_rate_limit_fault_can_omit_retry_after(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("rate-limit", retry_after=None))

    limited = http.get(BASE)

    assert limited.status_code == 429
    assert "Retry-After" not in limited.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_status_fault_answers_that_status_without_doing_the_work(
    http: httpx.Client, registry_server: RegistryServer, status: int
) -> None:
    registry_server.inject(Fault("status", status=status))

    response = http.patch(path_of(CHAT), json={"rpm": 1})

    assert response.status_code == status
    assert error_message(response)
    assert registry_server.entries()[CHAT]["definition"]["rpm"] == 600


def test_status_fault_can_carry_any_body(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("status", status=502, body="<html>Bad Gateway</html>"))

    response = http.get(BASE)

    assert (response.status_code, response.text) == (502, "<html>Bad Gateway</html>")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, "<html><body>upstream hiccup</body></html>"),
        ('{"object": "list"}', '{"object": "list"}'),
    ],
)
def test_malformed_fault_answers_200_with_the_body(
    http: httpx.Client, registry_server: RegistryServer, body: str | None, expected: str
) -> None:
    registry_server.inject(Fault("malformed", body=body))

    response = http.get(BASE)

    assert (response.status_code, response.text) == (200, expected)


def test_drop_fault_closes_the_connection_without_an_answer(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("drop"))

    with pytest.raises(httpx.RemoteProtocolError):
        http.get(BASE)
    assert http.get(BASE).status_code == 200


def test_after_apply_fault_lands_the_write_but_hides_the_answer(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("drop", method="PATCH", after_apply=True))

    with pytest.raises(httpx.RemoteProtocolError):
        http.patch(path_of(CHAT), json={"rpm": 1})
    assert registry_server.entries()[CHAT]["definition"]["rpm"] == 1


def test_a_fault_applies_times_matching_requests_then_stops(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("status", status=500, method="get", path_contains=EMBED, times=2))

    statuses = [
        http.get(path_of(CHAT)).status_code,
        http.patch(path_of(EMBED), json={"rpm": 1}).status_code,
        http.get(path_of(EMBED)).status_code,
        http.get(path_of(EMBED)).status_code,
        http.get(path_of(EMBED)).status_code,
    ]

    assert statuses == [200, 200, 500, 500, 200]


def test_faults_are_used_in_the_order_injected_and_can_be_cleared(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("status", status=502))
    registry_server.inject(Fault("status", status=504, times=5))

    first, second = http.get(BASE).status_code, http.get(BASE).status_code
    registry_server.clear_faults()

    assert (first, second, http.get(BASE).status_code) == (502, 504, 200)


def test_a_fault_injected_before_start_is_armed(registry_seed: dict[str, Any]) -> None:
    server = RegistryServer(seed=registry_seed)
    server.inject(Fault("status", status=503))
    with server:
        headers = {"Authorization": "Bearer test-key"}
        statuses = [
            request("GET", server.url + BASE, headers=headers).status_code for _ in range(2)
        ]

    assert statuses == [503, 200]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "teapot"}, "unknown fault kind"),
        ({"kind": "status", "status": 200}, "known error status"),
        ({"kind": "status", "status": 599}, "known error status"),
        ({"kind": "drop", "times": 0}, "at least once"),
        ({"kind": "rate-limit", "after_apply": True}, "never carried out"),
    ],
)
def test_nonsense_faults_are_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**arguments)


# -- latency, the request log, concurrency -----------------------------------------


def test_latency_can_be_switched_while_running(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    registry_server.latency = 0.05
    started = time.perf_counter()
    http.get(BASE)
    slow = time.perf_counter() - started
    registry_server.latency = 0.0

    assert slow >= 0.05
    assert registry_server.latency == 0.0


def test_latency_given_at_start_delays_requests(registry_seed: dict[str, Any]) -> None:
    with RegistryServer(seed=registry_seed, latency=0.05) as server:
        started = time.perf_counter()
        request("GET", server.url + BASE)

    assert time.perf_counter() - started >= 0.05


def test_the_request_log_records_what_was_sent(
    http: httpx.Client, registry_server: RegistryServer
) -> None:
    http.get(BASE)
    http.patch(path_of(CHAT), json={"rpm": 5}, headers={"X-On-Behalf-Of": "user-7"})
    http.request("PATCH", path_of(CHAT), content=b"not json")
    request("DELETE", registry_server.url + path_of(IMMUTABLE))

    requests = registry_server.requests()
    assert [(r.method, r.path, r.body) for r in requests] == [
        ("GET", BASE, None),
        ("PATCH", f"{BASE}/{CHAT}", {"rpm": 5}),
        ("PATCH", f"{BASE}/{CHAT}", "not json"),
        ("DELETE", f"{BASE}/{IMMUTABLE}", None),
    ]
    assert requests[1].raw_path == path_of(CHAT)
    assert requests[1].headers["x-on-behalf-of"] == "user-7"
    assert "authorization" not in requests[3].headers
    assert registry_server.request_count == 4
    assert [r.path for r in registry_server.requests("patch")] == [f"{BASE}/{CHAT}"] * 2

    registry_server.clear_requests()
    assert registry_server.requests() == []


def test_concurrent_writes_all_land(registry_server: RegistryServer) -> None:
    ids = [f"meetkai:parallel-{n}" for n in range(24)]
    statuses: list[int] = []
    lock = threading.Lock()

    def add(model_id: str) -> None:
        response = request(
            "POST",
            registry_server.url + BASE,
            json=new_definition(model_id),
            headers={"Authorization": "Bearer test-key"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=add, args=(model_id,)) for model_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * len(ids)
    assert set(ids) <= set(registry_server.entries())
    assert registry_server.request_count == len(ids)


# -- lifecycle and seeds -----------------------------------------------------------


def test_stop_closes_kept_alive_connections(registry_seed: dict[str, Any]) -> None:
    server = RegistryServer(seed=registry_seed).start()
    headers = {"Authorization": "Bearer test-key"}
    with httpx.Client(base_url=server.url, headers=headers, verify=TLS) as client:
        assert client.get(BASE).status_code == 200
        server.stop()
        server.stop()

        with pytest.raises(httpx.TransportError):
            client.get(BASE)


def test_url_needs_a_running_server(registry_seed: dict[str, Any]) -> None:
    server = RegistryServer(seed=registry_seed)

    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server, pytest.raises(RuntimeError, match="already running"):
        server.start()


def test_seed_from_a_file_fills_in_server_owned_fields(
    tmp_path: Path, registry_seed: dict[str, Any]
) -> None:
    minimal = registry_seed["data"][1]
    minimal = {k: minimal[k] for k in ("id", "source", "immutable")} | {
        "definition": {k: v for k, v in minimal["definition"].items() if k != "id"}
    }
    seed_file = tmp_path / "registry.json"
    seed_file.write_text(json.dumps({"object": "list", "data": [minimal]}))

    with RegistryServer(seed=seed_file) as server:
        headers = {"Authorization": "Bearer test-key"}
        document = request("GET", server.url + BASE, headers=headers).json()

    RegistryModelListResponse.model_validate(document)
    entry = document["data"][0]
    assert (entry["id"], entry["provider"], entry["model_id"]) == (
        CHAT,
        "openai-compatible",
        "my-custom-chat-v1",
    )
    assert entry["definition"]["id"] == CHAT


def test_a_seed_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ResponseShapeError, match=r"the seed document at data\[0\]\.immutable"):
        RegistryServer(seed={"object": "list", "data": [{"id": "x", "definition": {}}]})


def test_an_unseeded_server_is_empty() -> None:
    with RegistryServer() as server:
        document = request("GET", server.url + BASE, headers={"Authorization": "Bearer test-key"})

    assert document.json() == {"object": "list", "data": []}


# -- the command line --------------------------------------------------------------


def test_cli_serves_the_seed_until_interrupted(
    tmp_path: Path, registry_seed: dict[str, Any]
) -> None:
    seed_file = tmp_path / "registry.json"
    seed_file.write_text(json.dumps(registry_seed))
    command = [sys.executable, "-m", "registry_sync.testing", "--seed", str(seed_file)]
    switches = ["--store-nulls", "--fill-defaults", '{"hidden": false}']
    switches += ["--unhealthy", "meetkai:new-model-v1", "--unhealthy", f"{EMBED}=key missing"]
    with subprocess.Popen(
        [*command, "--api-key", "demo-key", "--latency-ms", "5", *switches],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        url = banner[0].split()[4]
        auth = {"Authorization": "Bearer demo-key"}
        response = request("GET", url + BASE, headers=auth)
        added = request("POST", url + BASE, json=new_definition(), headers=auth)
        cleared = request(
            "PATCH", url + path_of("meetkai:new-model-v1"), json={"hidden": None}, headers=auth
        )
        probes = [
            request("POST", url + path_of(model_id) + "/health", headers=auth).json()
            for model_id in ("meetkai:new-model-v1", EMBED, CHAT)
        ]
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)

    assert banner[0].startswith("registry server listening on http://127.0.0.1:")
    assert "(4 entries)" in banner[0]
    assert banner[2].strip() == f"export MKA1_API_URL={url} MKA1_API_KEY=demo-key"
    assert banner[3] == "press Ctrl-C to stop\n"
    assert response.status_code == 200
    assert added.json()["definition"]["hidden"] is False  # --fill-defaults
    assert cleared.json()["definition"]["hidden"] is None  # --store-nulls
    errors = [(probe["is_available"], probe.get("error")) for probe in probes]  # --unhealthy
    assert errors == [
        (False, "upstream unreachable: connection refused"),
        (False, "key missing"),
        (True, None),
    ]
    assert f"GET {BASE} -> 200" in stderr
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [("{nope", "--fill-defaults is not valid JSON"), ("[1]", "must be a JSON object")],
)
def test_cli_refuses_fill_defaults_that_are_not_a_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    seed_file = tmp_path / "registry.json"
    seed_file.write_text('{"object": "list", "data": []}')

    assert serve(["--seed", str(seed_file), "--fill-defaults", value]) == 1
    assert message in capsys.readouterr().err


def test_cli_reports_a_bad_seed(tmp_path: Path) -> None:
    seed_file = tmp_path / "registry.json"
    seed_file.write_text('{"object": "list", "data": "nope"}')

    result = subprocess.run(
        [sys.executable, "-m", "registry_sync.testing", "--seed", str(seed_file)],
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot start the registry server: ")
    assert "data: expected a list" in result.stderr
