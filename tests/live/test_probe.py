"""The probe: which API generation a registry speaks, with one read at most and no guess."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from registry_sync.errors import ApiError, ResponseShapeError, TransportError
from registry_sync.live.client import RegistryClient, RetryPolicy
from registry_sync.live.sources import LiveSource, LiveState, fetch_live
from registry_sync.testing import (
    Fault,
    RegistryServer,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "probe-key"
CATALOG = "/api/v1/llm/models/catalog"
REGISTRY = "/api/v1/llm/models/registry"
ADVICE = "api: registry|catalog in registry-sync.yaml, or --api, pins it"


def catalog_seed() -> dict[str, Any]:
    return catalog_list([catalog_entry(minimal_definition("team:chat"))])


def registry_seed() -> dict[str, Any]:
    return list_response([registry_model(minimal_definition("team:chat"))])


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client_for(server: RegistryServer, sleeps: list[float], **options: Any) -> RegistryClient:
    settings: dict[str, Any] = {"retry": RetryPolicy(jitter=0), "sleep": sleeps.append, **options}
    return RegistryClient(server.url, KEY, **settings)


@pytest.fixture
def catalog_server() -> Iterator[RegistryServer]:
    with RegistryServer(catalog_seed(), api_key=KEY, api="catalog") as server:
        yield server


@pytest.fixture
def registry_server_() -> Iterator[RegistryServer]:
    with RegistryServer(registry_seed(), api_key=KEY, non_admin_key="weak") as server:
        yield server


def paths(server: RegistryServer) -> list[str]:
    return [f"{r.method} {r.raw_path}" for r in server.requests()]


def test_a_catalog_list_on_200_is_the_catalog_and_the_list(
    catalog_server: RegistryServer, sleeps: list[float]
) -> None:
    with client_for(catalog_server, sleeps) as client:
        assert client.api == "catalog"
        assert [e.id for e in client.list_models()] == ["team:chat"]
        assert paths(catalog_server) == [f"GET {CATALOG}"]
        # The probe's list serves once: the next list reads afresh.
        client.list_models()
    assert paths(catalog_server) == [f"GET {CATALOG}", f"GET {CATALOG}"]


def test_a_request_after_the_probe_makes_its_list_stale(
    catalog_server: RegistryServer, sleeps: list[float]
) -> None:
    with client_for(catalog_server, sleeps) as client:
        assert client.api == "catalog"
        client.add_model(minimal_definition("team:new"))
        assert [e.id for e in client.list_models()] == ["team:chat", "team:new"]
    assert paths(catalog_server) == [f"GET {CATALOG}", f"POST {CATALOG}", f"GET {CATALOG}"]


def test_a_404_is_the_registry_generation(
    registry_server_: RegistryServer, sleeps: list[float]
) -> None:
    with client_for(registry_server_, sleeps) as client:
        assert [e.id for e in client.list_models()] == ["team:chat"]
        assert client.api == "registry"
        client.check_health("team:chat")
    assert paths(registry_server_) == [
        f"GET {CATALOG}",
        f"GET {REGISTRY}",
        f"POST {REGISTRY}/team%3Achat/health",
    ]
    assert sleeps == []


@pytest.mark.parametrize(("key", "status"), [("wrong", 401), ("weak", 403)])
def test_401_and_403_are_errors(
    registry_server_: RegistryServer, sleeps: list[float], key: str, status: int
) -> None:
    with (
        RegistryClient(registry_server_.url, key, sleep=sleeps.append) as client,
        pytest.raises(ApiError) as raised,
    ):
        client.list_models()
    assert raised.value.status == status
    assert str(raised.value).startswith(
        f"find which API the registry speaks failed: GET {CATALOG} returned {status}: "
    )
    # The key is the problem: the hint names its variable, and pinning the API (which
    # skips the probe) is not offered.
    wrong = "refused the API key" if status == 401 else "does not allow the key"
    assert str(raised.value).endswith(
        f"{registry_server_.url.split('//', 1)[1]} {wrong} in MKA1_API_KEY: set it to an admin "
        "API key of that registry (the API URL comes from MKA1_API_URL)"
    )
    assert ADVICE not in str(raised.value)
    assert paths(registry_server_) == [f"GET {CATALOG}"]


def test_a_5xx_after_retries_is_an_error(
    registry_server_: RegistryServer, sleeps: list[float]
) -> None:
    registry_server_.inject(Fault("status", status=502, path_contains="catalog", times=None))
    with client_for(registry_server_, sleeps) as client, pytest.raises(ApiError) as raised:
        _ = client.api
    assert raised.value.status == 502
    assert "gave up after 6 attempts" in str(raised.value)
    assert ADVICE in str(raised.value)
    assert len(sleeps) == 5
    assert set(paths(registry_server_)) == {f"GET {CATALOG}"}


def test_a_5xx_that_clears_within_the_retries_is_an_answer(
    catalog_server: RegistryServer, sleeps: list[float]
) -> None:
    catalog_server.inject(Fault("status", status=503, times=2))
    with client_for(catalog_server, sleeps) as client:
        assert client.api == "catalog"
    assert len(sleeps) == 2


def test_a_timeout_is_an_error(registry_server_: RegistryServer, sleeps: list[float]) -> None:
    registry_server_.latency = 0.3
    with (
        client_for(registry_server_, sleeps, timeout=0.05, retry=RetryPolicy(max_attempts=2)) as c,
        pytest.raises(TransportError) as raised,
    ):
        c.list_models()
    assert "timed out" in raised.value.cause
    host = registry_server_.url.split("//", 1)[1]
    assert raised.value.hint == (
        f"is {host} the registry's host, and reachable from here? The API URL comes from "
        "MKA1_API_URL"
    )
    assert raised.value.path == CATALOG


def test_no_connection_is_an_error(sleeps: list[float]) -> None:
    with RegistryServer(api_key=KEY) as server:
        url = server.url
    with (
        RegistryClient(url, KEY, retry=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(TransportError, match="cannot connect"),
    ):
        _ = client.api


def test_a_200_that_is_no_catalog_list_is_an_error(
    registry_server_: RegistryServer, sleeps: list[float]
) -> None:
    # A registry-generation gateway answering /catalog as if it named a model.
    body = '{"id": "catalog", "source": "database", "immutable": false, "definition": {}}'
    registry_server_.inject(Fault("malformed", body=body, path_contains="catalog"))
    with client_for(registry_server_, sleeps) as client, pytest.raises(ResponseShapeError) as r:
        client.list_models()
    assert r.value.where == "object"
    assert ADVICE in str(r.value)
    assert paths(registry_server_) == [f"GET {CATALOG}"]


def test_pinned_catalog_against_the_registry_generation_says_so(
    registry_server_: RegistryServer, sleeps: list[float]
) -> None:
    with (
        client_for(registry_server_, sleeps, api="catalog") as client,
        pytest.raises(ApiError) as raised,
    ):
        client.list_models()
    assert raised.value.status == 404
    assert "the registry does not speak the catalog API, but api: catalog is pinned" in str(
        raised.value
    )


def test_pinned_registry_never_probes(
    registry_server_: RegistryServer, sleeps: list[float]
) -> None:
    with client_for(registry_server_, sleeps, api="registry") as client:
        assert client.api == "registry"
        client.list_models()
    assert paths(registry_server_) == [f"GET {REGISTRY}"]


def test_pinned_registry_against_the_catalog_generation_fails_closed(
    catalog_server: RegistryServer, sleeps: list[float]
) -> None:
    # GET /registry lists the active names as CatalogEntry objects: no id, never "empty".
    with (
        client_for(catalog_server, sleeps, api="registry") as client,
        pytest.raises(ResponseShapeError, match=r"data\[0\]\.id: expected a string, got null"),
    ):
        client.list_models()


@pytest.mark.parametrize("pinned", [None, "catalog", "registry"])
def test_fetch_live_says_which_generation_it_found(
    catalog_server: RegistryServer,
    registry_server_: RegistryServer,
    monkeypatch: pytest.MonkeyPatch,
    pinned: Any,
) -> None:
    monkeypatch.setenv("MKA1_API_KEY", KEY)
    for server, api in ((catalog_server, "catalog"), (registry_server_, "registry")):
        if pinned is not None and pinned != api:
            continue
        state = fetch_live(LiveSource(api_url=server.url, api=pinned), KEY)
        assert isinstance(state, LiveState)
        assert (state.api, [e.id for e in state.entries]) == (api, ["team:chat"])
