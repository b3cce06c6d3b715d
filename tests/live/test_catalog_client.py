"""The client's catalog dialect against the local server in catalog mode, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from registry_sync.errors import ApiError, ConfigError, ResponseShapeError
from registry_sync.live.client import HealthResult, RegistryClient, RetryPolicy
from registry_sync.live.entries import Activation
from registry_sync.testing import (
    Fault,
    RegistryServer,
    catalog_entry,
    catalog_list,
    minimal_definition,
    registry_model,
)

KEY = "catalog-client-key"
CATALOG = "/api/v1/llm/models/catalog"
REGISTRY = "/api/v1/llm/models/registry"


def seed() -> dict[str, Any]:
    """byo team:chat (active), serving gpt:4o (active) with a blocked byo beside it,
    cluster team:chat (blocked), and a yaml-origin byo team:fixed (not active)."""
    return catalog_list(
        [
            catalog_entry(minimal_definition("team:chat", rpm=60)),
            catalog_entry(
                minimal_definition("team:chat"),
                source="cluster",
                origin=None,
                active=False,
                blocker_source="byo",
            ),
            catalog_entry(minimal_definition("gpt:4o"), source="serving", origin=None),
            catalog_entry(minimal_definition("gpt:4o"), active=False, blocker_source="serving"),
            catalog_entry(minimal_definition("team:fixed"), origin="yaml", active=False),
        ]
    )


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed(), api_key=KEY, api="catalog") as running:
        yield running


@pytest.fixture
def client(server: RegistryServer) -> Iterator[RegistryClient]:
    with RegistryClient(
        server.url, KEY, api="catalog", retry=RetryPolicy(jitter=0), sleep=lambda _s: None
    ) as built:
        yield built


def sent(server: RegistryServer) -> list[tuple[str, str, str]]:
    return [(r.method, r.raw_path, r.raw_query) for r in server.requests()]


def test_list_models_groups_the_catalog_by_name(
    client: RegistryClient, server: RegistryServer
) -> None:
    entries = client.list_models()
    assert [(e.id, e.source, e.immutable, e.activation) for e in entries] == [
        ("team:chat", "byo", False, Activation("byo", ("byo", "cluster"))),
        ("gpt:4o", "byo", False, Activation("serving", ("serving", "byo"))),
        ("team:fixed", "byo", True, Activation(None, ("byo",))),
    ]
    assert entries[0].definition == minimal_definition("team:chat", rpm=60)
    assert sent(server) == [("GET", CATALOG, "")]
    assert client.api == "catalog"


def test_add_model_defines_without_activating(
    client: RegistryClient, server: RegistryServer
) -> None:
    entry = client.add_model(minimal_definition("team:new"))
    assert (entry.id, entry.source, entry.origin, entry.immutable) == (
        "team:new",
        "byo",
        "api",
        False,
    )
    assert entry.activation == Activation(None, ("byo",))
    assert entry.health is not None and entry.health.status == "unknown"
    assert "team:new" not in server.active()
    assert server.requests()[-1].body == minimal_definition("team:new")


def test_update_model_sends_the_id_in_the_body(
    client: RegistryClient, server: RegistryServer
) -> None:
    entry = client.update_model("team:chat", {"rpm": None, "contextWindow": 8192})
    assert "rpm" not in entry.definition
    assert entry.definition["contextWindow"] == 8192
    request = server.requests()[-1]
    assert (request.method, request.raw_path) == ("PATCH", CATALOG)
    assert request.body == {"id": "team:chat", "rpm": None, "contextWindow": 8192}


def test_update_model_refuses_fields_naming_another_id(client: RegistryClient) -> None:
    with pytest.raises(ConfigError, match="an id cannot change"):
        client.update_model("team:chat", {"id": "team:other"})


def test_remove_model_deletes_and_deactivates_the_byo_name(
    client: RegistryClient, server: RegistryServer
) -> None:
    client.remove_model("team:chat")
    assert sent(server)[-1] == ("DELETE", CATALOG, "id=team%3Achat")
    assert "team:chat" not in server.active()
    # The cluster's definition stays, serving nothing.
    entry = client.get_model("team:chat")
    assert entry is not None
    assert (entry.source, entry.activation) == ("cluster", Activation(None, ("cluster",)))


def test_get_model_reads_the_list(client: RegistryClient, server: RegistryServer) -> None:
    found = client.get_model("gpt:4o")
    assert found is not None and found.activation == Activation("serving", ("serving", "byo"))
    assert client.get_model("team:none") is None
    assert sent(server) == [("GET", CATALOG, ""), ("GET", CATALOG, "")]


def test_check_health_reports_the_status(client: RegistryClient, server: RegistryServer) -> None:
    result = client.check_health("team:chat")
    assert (result.is_available, result.error, result.status) == (True, None, "available")
    server.set_unhealthy("team:chat", "upstream down")
    result = client.check_health("team:chat")
    assert (result.is_available, result.error, result.status) == (
        False,
        "upstream down",
        "unavailable",
    )
    server.set_unhealthy("team:chat", None)
    server.set_unknown("team:chat")
    result = client.check_health("team:chat")
    assert result == HealthResult(True, result.checked_at, None, "unknown")
    assert sent(server)[0] == ("POST", f"{CATALOG}/health", "id=team%3Achat")


def test_activate_and_deactivate(client: RegistryClient, server: RegistryServer) -> None:
    client.add_model(minimal_definition("team:new"))
    client.activate("team:new", "byo")
    client.activate("team:new", "byo")  # idempotent for the same source
    assert server.active()["team:new"] == "byo"
    assert server.requests("POST")[-1].body == {"source": "byo", "model_id": "team:new"}
    client.deactivate("team:new")
    assert "team:new" not in server.active()
    assert sent(server)[-1] == ("DELETE", REGISTRY, "id=team%3Anew")
    client.deactivate("team:new")  # idempotent: the definition stays, nothing serves it


def test_a_409_on_activate_names_the_holder(client: RegistryClient) -> None:
    with pytest.raises(ApiError) as raised:
        client.activate("gpt:4o", "byo")
    assert raised.value.status == 409
    assert str(raised.value) == (
        "activate registry name gpt:4o from byo failed: POST /api/v1/llm/models/registry "
        "returned 409: model name gpt:4o is held by source 'serving'; deactivate it first"
    )


# (case, call, status, message part)
ERRORS: list[tuple[str, Any, int, str]] = [
    ("add existing", lambda c: c.add_model(minimal_definition("team:chat")), 409,
     "add catalog model team:chat failed: POST /api/v1/llm/models/catalog returned 409"),
    ("add refused", lambda c: c.add_model(minimal_definition("team:x", apiProviderType="azure")),
     400, "apiProviderType"),
    ("add unknown key", lambda c: c.add_model(minimal_definition("team:x", newField=1)), 400,
     "newField: not a field of the catalog API's definition"),
    ("update missing", lambda c: c.update_model("team:none", {"rpm": 1}), 404,
     "update catalog model team:none failed: PATCH /api/v1/llm/models/catalog returned 404"),
    ("update serving", lambda c: c.update_model("gpt:4o", {"rpm": 1}), 200, ""),
    ("update yaml", lambda c: c.update_model("team:fixed", {"rpm": 1}), 403, "yaml-origin"),
    ("update not nullable", lambda c: c.update_model("team:chat", {"provider": None}), 400,
     "provider: not nullable"),
    ("remove yaml", lambda c: c.remove_model("team:fixed"), 403,
     "remove catalog model team:fixed failed: DELETE "
     "/api/v1/llm/models/catalog?id=team%3Afixed returned 403"),
    ("remove missing", lambda c: c.remove_model("team:none"), 404, "not found"),
    ("health missing", lambda c: c.check_health("team:none"), 404,
     "check health of catalog model team:none failed: POST "
     "/api/v1/llm/models/catalog/health?id=team%3Anone returned 404"),
    ("activate undefined source", lambda c: c.activate("team:fixed", "serving"), 404,
     "no serving definition of team:fixed"),
    ("activate bad source", lambda c: c.activate("team:chat", "partner"), 400, "source"),
    ("deactivate unknown", lambda c: c.deactivate("team:none"), 404,
     "deactivate registry name team:none failed: DELETE "
     "/api/v1/llm/models/registry?id=team%3Anone returned 404"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "status", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS]
)
def test_refusals_are_api_errors_in_the_house_form(
    client: RegistryClient, call: Any, status: int, message: str
) -> None:
    if status == 200:
        # gpt:4o has a byo definition beside the serving one: that is what a PATCH changes.
        assert call(client).source == "byo"
        return
    with pytest.raises(ApiError) as raised:
        call(client)
    assert raised.value.status == status
    assert message in str(raised.value)
    assert KEY not in str(raised.value)


def test_writes_to_a_platform_only_name_are_refused(
    client: RegistryClient, server: RegistryServer
) -> None:
    client.remove_model("gpt:4o")  # its byo definition: the serving one is left
    for call in (
        lambda: client.update_model("gpt:4o", {"rpm": 1}),
        lambda: client.remove_model("gpt:4o"),
    ):
        with pytest.raises(ApiError) as raised:
            call()
        assert raised.value.status == 403
        assert "only byo definitions" in raised.value.message
    assert server.active()["gpt:4o"] == "serving"


@pytest.mark.parametrize("odd", ["a/b", "...", ".x", "x?y=1#z", "a&id=b", "plus+:%41"])
def test_odd_ids_are_percent_encoded_in_the_query(
    client: RegistryClient, server: RegistryServer, odd: str
) -> None:
    client.add_model(minimal_definition(odd))
    client.activate(odd, "byo")
    assert client.check_health(odd).status == "available"
    client.deactivate(odd)
    client.remove_model(odd)
    queries = [r.raw_query for r in server.requests() if r.raw_query]
    assert len(queries) == 3
    assert all(query.count("=") == 1 and "&" not in query for query in queries)
    assert odd not in {e.id for e in client.list_models()}


@pytest.mark.parametrize("hostile", [".", "..", "", "a\tb", "a\u2028b"])
def test_an_id_no_query_can_carry_is_refused_before_sending(
    client: RegistryClient, server: RegistryServer, hostile: str
) -> None:
    server.clear_requests()
    for call in (
        lambda: client.remove_model(hostile),
        lambda: client.check_health(hostile),
        lambda: client.deactivate(hostile),
    ):
        with pytest.raises(ConfigError, match=r"registry id .* nothing was sent$"):
            call()
    assert server.requests() == []


def test_registry_generation_has_no_activation(registry_server: RegistryServer) -> None:
    with RegistryClient(registry_server.url, "test-key", api="registry") as client:
        with pytest.raises(ConfigError, match="the registry API has no activation"):
            client.activate("x:y", "byo")
        with pytest.raises(ConfigError, match="the registry API has no activation"):
            client.deactivate("x:y")
    assert registry_server.requests() == []


# (case, method, path, answer, where, what)
SHAPES: list[tuple[str, Any, str, str, str]] = [
    ("add other id", lambda c: c.add_model(minimal_definition("team:new")),
     json.dumps(catalog_entry(minimal_definition("team:other"))), "model_id",
     "expected 'team:new', got 'team:other'"),
    ("add serving", lambda c: c.add_model(minimal_definition("team:new")),
     json.dumps(catalog_entry(minimal_definition("team:new"), source="serving")), "source",
     "expected 'byo', got 'serving'"),
    ("update registry shape", lambda c: c.update_model("team:chat", {"rpm": 1}),
     json.dumps(registry_model(minimal_definition("team:chat"))), "activation_state",
     "expected a string, got null"),
    ("activate", lambda c: c.activate("team:chat", "byo"),
     '{"model_id": "team:chat", "source": "serving"}', "source", "expected 'byo'"),
    ("activate stamps", lambda c: c.activate("team:chat", "byo"),
     '{"model_id": "team:chat", "source": "byo", "activated_by": "a"}', "activated_at",
     "expected a string, got null"),
    ("remove", lambda c: c.remove_model("team:chat"),
     '{"id": "team:chat", "deleted": true}', "deactivated", "expected a boolean"),
    ("remove other", lambda c: c.remove_model("team:chat"),
     '{"id": "team:x", "deleted": true, "deactivated": false}', "id", "expected 'team:chat'"),
    ("remove not deleted", lambda c: c.remove_model("team:chat"),
     '{"id": "team:chat", "deleted": false, "deactivated": false}', "deleted", "expected true"),
    ("deactivate", lambda c: c.deactivate("team:chat"), '{"id": "team:chat"}', "deactivated",
     "expected a boolean, got null"),
    ("health status", lambda c: c.check_health("team:chat"),
     '{"is_available": true, "checked_at": 1}', "status", "expected a string, got null"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "answer", "where", "what"),
    [case[1:] for case in SHAPES],
    ids=[case[0] for case in SHAPES],
)
def test_answers_of_the_wrong_shape_fail_closed(
    client: RegistryClient, server: RegistryServer, call: Any, answer: str, where: str, what: str
) -> None:
    server.inject(Fault("malformed", body=answer))
    with pytest.raises(ResponseShapeError) as raised:
        call(client)
    assert raised.value.where == where
    assert what in raised.value.what
