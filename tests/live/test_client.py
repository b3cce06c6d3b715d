"""RegistryClient against the local registry, over real HTTP on 127.0.0.1.

Retry waits go to a recording ``sleep``, so the tests see every delay and take none.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

import registry_sync
from registry_sync.errors import ApiError, ConfigError, ResponseShapeError, TransportError
from registry_sync.live.client import HealthResult, RegistryClient, RetryPolicy
from registry_sync.live.entries import LiveEntry
from registry_sync.testing import Fault, RegistryServer

BASE = "/api/v1/llm/models/registry"
IMMUTABLE = "meetkai:functionary-medium-v3"
CHAT = "meetkai:my-custom-chat-v1"
EMBED = "meetkai:embed-small-v1"
NEW = "meetkai:new-model-v1"
SECRET_KEY = "sk-live-SECRET-0123456789abcdef"


def encoded(model_id: str) -> str:
    return f"{BASE}/{model_id.replace(':', '%3A').replace('/', '%2F')}"


def new_definition(model_id: str = NEW) -> dict[str, Any]:
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
def sleeps() -> list[float]:
    """The retry waits the client asked for, in order."""
    return []


@pytest.fixture
def connect(
    registry_server: RegistryServer, sleeps: list[float]
) -> Iterator[Callable[..., RegistryClient]]:
    """Build clients of ``registry_server`` with a recording sleep and no jitter."""
    clients: list[RegistryClient] = []

    def build(base_url: str | None = None, **options: Any) -> RegistryClient:
        settings: dict[str, Any] = {
            "api_key": registry_server.api_key,
            "retry": RetryPolicy(jitter=0),
            "sleep": sleeps.append,
            "api": "registry",
            **options,
        }
        client = RegistryClient(base_url or registry_server.url, **settings)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(connect: Callable[..., RegistryClient]) -> RegistryClient:
    return connect()


# -- round trips -------------------------------------------------------------------


def test_list_models_returns_every_entry_as_the_server_has_it(client: RegistryClient) -> None:
    entries = client.list_models()

    assert [(e.id, e.immutable, e.source) for e in entries] == [
        (IMMUTABLE, True, "yaml"),
        (CHAT, False, "database"),
        (EMBED, False, "database"),
        ("meetkai:vision-router-v1", False, "database"),
    ]
    chat = entries[1]
    assert chat.updated_at == 1704153600000
    assert chat.definition["rpm"] == 600
    assert "source" not in chat.definition
    assert "immutable" not in chat.definition


def test_get_model_returns_the_entry(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    entry = client.get_model(CHAT)

    assert entry is not None
    assert entry.id == CHAT
    live = registry_server.entries()[CHAT]
    assert entry.definition == {
        k: v for k, v in live["definition"].items() if k not in ("source", "immutable")
    }


def test_get_model_of_an_unknown_id_is_none(client: RegistryClient) -> None:
    assert client.get_model("meetkai:nope") is None


def test_add_model_posts_the_definition_and_returns_the_entry(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    entry = client.add_model(new_definition())

    assert entry == LiveEntry(
        id=NEW,
        immutable=False,
        source="database",
        definition=new_definition(),
        updated_at=registry_server.entries()[NEW]["updated_at"],
    )
    (sent,) = registry_server.requests("POST")
    assert (sent.path, sent.body) == (BASE, new_definition())
    assert sent.headers["content-type"] == "application/json"


def test_update_model_patches_only_the_given_fields(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    before = registry_server.entries()[CHAT]

    entry = client.update_model(CHAT, {"rpm": 1200, "hidden": True})

    (sent,) = registry_server.requests("PATCH")
    assert (sent.raw_path, sent.body) == (encoded(CHAT), {"rpm": 1200, "hidden": True})
    expected = {k: v for k, v in before["definition"].items() if k not in ("source", "immutable")}
    assert entry.definition == {**expected, "rpm": 1200, "hidden": True}
    assert entry.updated_at is not None
    assert entry.updated_at > before["updated_at"]


def test_remove_model_deletes_the_entry(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    client.remove_model(EMBED)

    assert EMBED not in registry_server.entries()
    assert client.get_model(EMBED) is None


def test_check_health_returns_the_probe_result(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    result = client.check_health(CHAT)

    checked = registry_server.entries()[CHAT]["health"]["last_health_check"]
    assert result == HealthResult(is_available=True, checked_at=checked, error=None)


def test_an_unhealthy_answer_and_listed_health_carry_the_scrubbed_error(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    registry_server.set_unhealthy(
        CHAT, f"upstream said\n  401 for Bearer {registry_server.api_key}"
    )

    probed = client.check_health(CHAT)
    listed = {entry.id: entry.health for entry in client.list_models()}

    assert (probed.is_available, probed.error) == (False, "upstream said 401 for Bearer ***")
    chat = listed[CHAT]
    assert chat is not None and chat.error == "upstream said 401 for Bearer ***"
    assert (chat.is_available, chat.last_health_check) == (False, probed.checked_at)
    embed = listed[EMBED]
    assert embed is not None and (embed.is_available, embed.error) == (True, None)


def test_ids_are_percent_encoded_in_every_path(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    odd = "org/team:model+v1%"
    client.add_model(new_definition(odd))
    client.get_model(odd)
    client.update_model(odd, {"rpm": 1})
    client.check_health(odd)
    client.remove_model(odd)

    raw_paths = [r.raw_path for r in registry_server.requests()]
    target = f"{BASE}/org%2Fteam%3Amodel%2Bv1%25"
    assert raw_paths == [BASE, target, target, f"{target}/health", target]


@pytest.mark.parametrize("hostile", [".", "..", "", "a\nb", "a b", "a\u202eb", "a\x85b"])
def test_an_id_no_request_can_carry_is_refused_before_sending(
    client: RegistryClient, registry_server: RegistryServer, hostile: str
) -> None:
    for call in (
        lambda: client.get_model(hostile),
        lambda: client.update_model(hostile, {"rpm": 1}),
        lambda: client.remove_model(hostile),
        lambda: client.check_health(hostile),
    ):
        with pytest.raises(ConfigError, match=r"registry id .* nothing was sent$"):
            call()
    assert registry_server.requests() == []


def test_every_request_carries_the_documented_headers(
    connect: Callable[..., RegistryClient], registry_server: RegistryServer
) -> None:
    connect(on_behalf_of="external-user-42").list_models()
    connect().list_models()

    with_user, without_user = (r.headers for r in registry_server.requests())
    assert with_user["authorization"] == "Bearer test-key"
    assert with_user["accept"] == "application/json"
    assert with_user["user-agent"] == f"registry-sync/{registry_sync.__version__}"
    assert with_user["x-on-behalf-of"] == "external-user-42"
    assert "x-on-behalf-of" not in without_user
    assert "content-type" not in without_user


# -- error statuses ----------------------------------------------------------------

Call = Callable[[RegistryClient], object]


@pytest.mark.parametrize(
    ("call", "status", "method", "path", "operation", "message"),
    [
        (
            lambda c: c.update_model(IMMUTABLE, {"rpm": 1}),
            403,
            "PATCH",
            encoded(IMMUTABLE),
            f"update registry model {IMMUTABLE}",
            f"YAML models cannot be updated: {IMMUTABLE}",
        ),
        (
            lambda c: c.remove_model(IMMUTABLE),
            403,
            "DELETE",
            encoded(IMMUTABLE),
            f"remove registry model {IMMUTABLE}",
            f"YAML models cannot be removed: {IMMUTABLE}",
        ),
        (
            lambda c: c.add_model(new_definition(CHAT)),
            409,
            "POST",
            BASE,
            f"add registry model {CHAT}",
            f"model {CHAT} already exists: it exists",
        ),
        (
            lambda c: c.add_model(new_definition(IMMUTABLE)),
            409,
            "POST",
            BASE,
            f"add registry model {IMMUTABLE}",
            f"model {IMMUTABLE} already exists: YAML models cannot be overridden",
        ),
        (
            lambda c: c.add_model({"id": NEW, "provider": "x"}),
            400,
            "POST",
            BASE,
            f"add registry model {NEW}",
            "invalid request body: modelId: missing required field; apiFormat: missing required "
            "field; apiProviderType: missing required field; created: missing required field; "
            "auth: missing required field; capabilities: missing required field",
        ),
        (
            lambda c: c.add_model({"provider": "x"}),
            400,
            "POST",
            BASE,
            "add registry model (no id)",
            "invalid request body: id: missing required field; modelId: missing required field; "
            "apiFormat: missing required field; apiProviderType: missing required field; "
            "created: missing required field; auth: missing required field; capabilities: "
            "missing required field",
        ),
        (
            lambda c: c.update_model(CHAT, {"id": "meetkai:other"}),
            400,
            "PATCH",
            encoded(CHAT),
            f"update registry model {CHAT}",
            "invalid request body: id: cannot be changed by an update",
        ),
        (
            lambda c: c.update_model("meetkai:nope", {"rpm": 1}),
            404,
            "PATCH",
            encoded("meetkai:nope"),
            "update registry model meetkai:nope",
            "model meetkai:nope not found",
        ),
        (
            lambda c: c.remove_model("meetkai:nope"),
            404,
            "DELETE",
            encoded("meetkai:nope"),
            "remove registry model meetkai:nope",
            "model meetkai:nope not found",
        ),
        (
            lambda c: c.check_health("meetkai:nope"),
            404,
            "POST",
            encoded("meetkai:nope") + "/health",
            "check health of registry model meetkai:nope",
            "model meetkai:nope not found",
        ),
    ],
)
def test_error_statuses_become_api_errors(
    client: RegistryClient,
    registry_server: RegistryServer,
    sleeps: list[float],
    call: Call,
    status: int,
    method: str,
    path: str,
    operation: str,
    message: str,
) -> None:
    before = registry_server.entries()

    with pytest.raises(ApiError) as caught:
        call(client)

    error = caught.value
    assert (error.status, error.method, error.path, error.operation) == (
        status,
        method,
        path,
        operation,
    )
    assert error.message == message
    assert str(error) == f"{operation} failed: {method} {path} returned {status}: {message}"
    assert registry_server.entries() == before
    assert (registry_server.request_count, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("api_key", "status", "message"),
    [
        ("wrong-key", 401, "invalid or missing API key"),
        ("reader-key", 403, "this API key lacks the admin scope"),
    ],
)
def test_a_key_without_admin_rights_is_refused(
    registry_seed: dict[str, Any], api_key: str, status: int, message: str
) -> None:
    with (
        RegistryServer(seed=registry_seed, non_admin_key="reader-key") as server,
        RegistryClient(server.url, api_key, api="registry") as client,
        pytest.raises(ApiError) as caught,
    ):
        client.list_models()

    assert (caught.value.status, caught.value.message) == (status, message)
    assert api_key not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"error": {"message": "upstream down", "type": "x"}}', "upstream down"),
        ('{"error": "quota exceeded"}', "quota exceeded"),
        ('{"message": "bad request"}', "bad request"),
        ('{"detail": "Not authenticated"}', "Not authenticated"),
        ('{"detail": [{"loc": ["body"], "msg": "bad"}]}', '[{"loc": ["body"], "msg": "bad"}]'),
        ('{"unexpected": 1}', '{"unexpected": 1}'),
        (
            "<html>\n  <body>Bad\n Request</body>\n</html>",
            "<html> <body>Bad Request</body> </html>",
        ),
        ("x" * 1000, "x" * 299 + "…"),
        ("", ""),
    ],
)
def test_the_error_message_comes_from_the_body(
    client: RegistryClient, registry_server: RegistryServer, body: str, message: str
) -> None:
    registry_server.inject(Fault("status", status=400, body=body))

    with pytest.raises(ApiError) as caught:
        client.list_models()

    assert caught.value.message == message
    assert str(caught.value).endswith(f"returned 400{': ' if message else ''}{message}")


# -- retries -----------------------------------------------------------------------

CALLS: dict[str, Call] = {
    "list": lambda c: c.list_models(),
    "get": lambda c: c.get_model(CHAT),
    "health": lambda c: c.check_health(CHAT),
    "add": lambda c: c.add_model(new_definition()),
    "update": lambda c: c.update_model(CHAT, {"rpm": 7}),
    "remove": lambda c: c.remove_model(CHAT),
}
# The state each successful write leaves, so a retried write is seen to land once.
LANDED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "add": lambda entries: NEW in entries,
    "update": lambda entries: entries[CHAT]["definition"]["rpm"] == 7,
    "remove": lambda entries: CHAT not in entries,
}


@pytest.mark.parametrize(
    ("call", "fault", "requests", "waits"),
    [
        ("list", Fault("rate-limit", retry_after="2"), 2, [2.0]),
        ("list", Fault("rate-limit", retry_after="0.25"), 2, [0.25]),
        ("list", Fault("rate-limit", retry_after="soon"), 2, [0.5]),
        ("list", Fault("status", status=503), 2, [0.5]),
        ("list", Fault("status", status=500, times=2), 3, [0.5, 0.75]),
        ("get", Fault("status", status=502), 2, [0.5]),
        ("get", Fault("status", status=504, times=3), 4, [0.5, 0.75, 1.125]),
        ("list", Fault("drop"), 2, [0.5]),
        ("get", Fault("drop", times=2), 3, [0.5, 0.75]),
        ("health", Fault("status", status=500), 2, [0.5]),
        ("health", Fault("drop"), 2, [0.5]),
        ("add", Fault("rate-limit", retry_after="1"), 2, [1.0]),
        ("add", Fault("status", status=503), 2, [0.5]),
        ("update", Fault("status", status=503, times=2), 3, [0.5, 0.75]),
        ("update", Fault("rate-limit", retry_after=None), 2, [0.5]),
        ("remove", Fault("rate-limit", retry_after="3"), 2, [3.0]),
        ("remove", Fault("status", status=503), 2, [0.5]),
    ],
)
def test_retried_failures_end_in_success(
    client: RegistryClient,
    registry_server: RegistryServer,
    sleeps: list[float],
    call: str,
    fault: Fault,
    requests: int,
    waits: list[float],
) -> None:
    registry_server.inject(fault)

    CALLS[call](client)

    assert registry_server.request_count == requests
    assert sleeps == waits
    if call in LANDED:
        assert LANDED[call](registry_server.entries())


@pytest.mark.parametrize(
    ("call", "fault", "error_type", "status"),
    [
        ("add", Fault("status", status=500), ApiError, 500),
        ("add", Fault("status", status=502), ApiError, 502),
        ("update", Fault("status", status=504), ApiError, 504),
        ("remove", Fault("status", status=500), ApiError, 500),
        ("add", Fault("drop"), TransportError, None),
        ("update", Fault("drop"), TransportError, None),
        ("remove", Fault("drop"), TransportError, None),
        ("update", Fault("drop", after_apply=True), TransportError, None),
        ("update", Fault("status", status=502, after_apply=True), ApiError, 502),
        ("get", Fault("status", status=400), ApiError, 400),
        ("list", Fault("status", status=501), ApiError, 501),
    ],
)
def test_failures_that_may_have_landed_are_not_retried(
    client: RegistryClient,
    registry_server: RegistryServer,
    sleeps: list[float],
    call: str,
    fault: Fault,
    error_type: type[Exception],
    status: int | None,
) -> None:
    registry_server.inject(fault)

    with pytest.raises(error_type) as caught:
        CALLS[call](client)

    assert registry_server.request_count == 1
    assert sleeps == []
    assert getattr(caught.value, "status", None) == status
    if call in LANDED:
        assert LANDED[call](registry_server.entries()) == fault.after_apply


def test_exhausted_status_retries_raise_the_last_api_error(
    connect: Callable[..., RegistryClient], registry_server: RegistryServer, sleeps: list[float]
) -> None:
    registry_server.inject(Fault("status", status=503, times=10))
    client = connect(retry=RetryPolicy(max_attempts=3, jitter=0))

    with pytest.raises(ApiError) as caught:
        client.list_models()

    assert (caught.value.method, caught.value.path, caught.value.status) == ("GET", BASE, 503)
    assert str(caught.value) == (
        f"list registry models failed: GET {BASE} returned 503: "
        "Service Unavailable (gave up after 3 attempts)"
    )
    assert (registry_server.request_count, sleeps) == (3, [0.5, 0.75])


def test_exhausted_transport_retries_raise_a_transport_error(
    connect: Callable[..., RegistryClient], registry_server: RegistryServer, sleeps: list[float]
) -> None:
    registry_server.inject(Fault("drop", times=10))
    client = connect(retry=RetryPolicy(max_attempts=4, jitter=0))

    with pytest.raises(TransportError) as caught:
        client.get_model(CHAT)

    error = caught.value
    assert (error.operation, error.method, error.path) == (
        f"get registry model {CHAT}",
        "GET",
        encoded(CHAT),
    )
    assert error.cause.startswith("connection dropped (")
    assert error.cause.endswith("(gave up after 4 attempts)")
    assert (registry_server.request_count, len(sleeps)) == (4, 3)


@pytest.mark.parametrize(
    ("policy", "waits"),
    [
        (RetryPolicy(jitter=0), [0.5, 0.75, 1.125, 1.6875, 2.53125]),
        (RetryPolicy(initial_delay=1, factor=10, max_delay=2, jitter=0), [1, 2, 2, 2, 2]),
        (RetryPolicy(initial_delay=1, factor=1, max_elapsed=2.5, jitter=0), [1, 1]),
        (RetryPolicy(max_attempts=1), []),
    ],
)
def test_backoff_grows_is_capped_and_stays_in_budget(
    connect: Callable[..., RegistryClient],
    registry_server: RegistryServer,
    sleeps: list[float],
    policy: RetryPolicy,
    waits: list[float],
) -> None:
    registry_server.inject(Fault("status", status=502, times=100))

    with pytest.raises(ApiError):
        connect(retry=policy).list_models()

    assert sleeps == waits
    assert registry_server.request_count == len(waits) + 1


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    client: RegistryClient, registry_server: RegistryServer, sleeps: list[float]
) -> None:
    registry_server.inject(Fault("rate-limit", retry_after="60"))

    with pytest.raises(ApiError) as caught:
        client.list_models()

    assert (caught.value.status, sleeps, registry_server.request_count) == (429, [], 1)


def test_a_retry_after_date_is_honoured(
    client: RegistryClient, registry_server: RegistryServer, sleeps: list[float]
) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=4)
    registry_server.inject(Fault("rate-limit", retry_after=format_datetime(when, usegmt=True)))

    client.list_models()

    (wait,) = sleeps
    # HTTP dates have whole seconds.
    assert 2.5 < wait <= 4


def test_jitter_adds_at_most_its_share_of_the_backoff() -> None:
    policy = RetryPolicy(jitter=0.5)

    waits = [policy.backoff(2) for _ in range(200)]

    assert all(0.75 <= wait <= 1.125 for wait in waits)
    assert len(set(waits)) > 1


def test_a_write_is_retried_when_the_connection_was_refused(
    connect: Callable[..., RegistryClient], registry_seed: dict[str, Any], sleeps: list[float]
) -> None:
    with RegistryServer(seed=registry_seed) as stopped:
        url = stopped.url
    client = connect(base_url=url, retry=RetryPolicy(max_attempts=3, jitter=0))

    with pytest.raises(TransportError) as caught:
        client.add_model(new_definition())

    assert caught.value.cause.startswith("cannot connect (")
    assert sleeps == [0.5, 0.75]


def test_a_timed_out_read_is_retried_and_a_timed_out_write_is_not(
    connect: Callable[..., RegistryClient], registry_server: RegistryServer, sleeps: list[float]
) -> None:
    # The timeout leaves ample room to connect: a connect timeout would be retried.
    registry_server.latency = 0.4
    client = connect(timeout=0.1, retry=RetryPolicy(max_attempts=2, jitter=0))

    with pytest.raises(TransportError) as read:
        client.list_models()
    with pytest.raises(TransportError) as write:
        client.update_model(CHAT, {"rpm": 1})

    assert read.value.cause.startswith("timed out (")
    assert write.value.cause.startswith("timed out (")
    assert [r.method for r in registry_server.requests()] == ["GET", "GET", "PATCH"]
    assert sleeps == [0.5]


# -- answers of the wrong shape ----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "body", "origin", "where", "what"),
    [
        ("list", None, f"GET {BASE}", "", "the body is not JSON"),
        ("list", '{"object": "list"}', f"GET {BASE}", "data", "expected a list"),
        ("list", '{"data": []}', f"GET {BASE}", "object", "expected 'list'"),
        (
            "list",
            '{"object": "list", "data": [{"id": "x", "source": "database"}]}',
            f"GET {BASE}",
            "data[0].immutable",
            "expected a boolean",
        ),
        ("get", "[]", f"GET {encoded(CHAT)}", "", "expected a JSON object"),
        (
            "get",
            '{"id": "meetkai:other", "source": "database", "immutable": false, "definition": {}}',
            f"GET {encoded(CHAT)}",
            "id",
            f"expected {CHAT!r}, got 'meetkai:other'",
        ),
        ("update", "{}", f"PATCH {encoded(CHAT)}", "id", "expected a string"),
        ("remove", '{"deleted": false}', f"DELETE {encoded(CHAT)}", "deleted", "expected"),
        ("remove", "null", f"DELETE {encoded(CHAT)}", "deleted", "got null"),
        (
            "health",
            '{"is_available": "yes", "checked_at": 1}',
            f"POST {encoded(CHAT)}/health",
            "is_available",
            "expected a boolean, got a string",
        ),
        (
            "health",
            '{"is_available": true, "checked_at": true}',
            f"POST {encoded(CHAT)}/health",
            "checked_at",
            "expected epoch milliseconds",
        ),
        (
            "health",
            '{"is_available": false, "checked_at": 1, "error": 3}',
            f"POST {encoded(CHAT)}/health",
            "error",
            "expected a string, got a number",
        ),
    ],
)
def test_answers_of_the_wrong_shape_fail_closed(
    client: RegistryClient,
    registry_server: RegistryServer,
    call: str,
    body: str | None,
    origin: str,
    where: str,
    what: str,
) -> None:
    registry_server.inject(Fault("malformed", body=body))

    with pytest.raises(ResponseShapeError) as caught:
        CALLS[call](client)

    assert (caught.value.origin, caught.value.where) == (origin, where)
    assert what in caught.value.what
    assert str(caught.value).endswith("refusing to treat it as the registry's state")
    assert registry_server.request_count == 1


def test_a_wrong_shape_never_echoes_the_values_it_carries(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    registry_server.inject(Fault("malformed", body='{"deleted": "sk-upstream-secret"}'))

    with pytest.raises(ResponseShapeError) as caught:
        client.remove_model(CHAT)

    assert "sk-upstream-secret" not in str(caught.value)
    assert "an object with keys [deleted]" in str(caught.value)


# -- the API key never shows -------------------------------------------------------


def _failures() -> list[tuple[Fault | None, Call, float]]:
    """(fault, call, server latency): every way a call can fail."""
    echo = f'{{"error": {{"message": "key {SECRET_KEY} is not valid"}}}}'
    return [
        (None, CALLS["list"], 0.0),  # the server has another key: 401
        (Fault("status", status=400, body=echo), CALLS["list"], 0.0),
        (Fault("drop", times=10), CALLS["list"], 0.0),
        (Fault("malformed", body="<html>oops</html>"), CALLS["get"], 0.0),
        (None, CALLS["update"], 0.2),  # timed out
    ]


def test_the_api_key_appears_in_no_message_repr_or_traceback(
    registry_seed: dict[str, Any], sleeps: list[float]
) -> None:
    texts: list[str] = []
    with RegistryServer(seed=registry_seed, api_key="another-key") as server:
        for fault, call, latency in _failures():
            server.clear_faults()
            if fault is not None:
                server.inject(fault)
            server.latency = latency
            with (
                RegistryClient(
                    server.url, SECRET_KEY, timeout=0.05, sleep=sleeps.append, api="registry"
                ) as client,
                pytest.raises((ApiError, TransportError, ResponseShapeError)) as caught,
            ):
                call(client)
            error = caught.value
            texts += [str(error), repr(error), repr(client)]
            texts += traceback.format_exception(type(error), error, error.__traceback__)
        stopped_url = server.url
    with RegistryClient(stopped_url, SECRET_KEY, sleep=sleeps.append, api="registry") as client:
        with pytest.raises(TransportError) as refused:
            client.list_models()
        texts += traceback.format_exception(type(refused.value), refused.value, None)

    assert len(texts) > 20
    assert not [text for text in texts if SECRET_KEY in text]
    assert any("key *** is not valid" in text for text in texts)


@pytest.mark.parametrize(
    ("base_url", "api_key", "message"),
    [
        ("apigw.mka1.com", "KEY123", "must start with http:// or https://"),
        ("ftp://apigw.mka1.com", "KEY123", "must start with http:// or https://"),
        ("https://", "KEY123", "name a host"),
        ("http://[::1", "KEY123", "is not a URL"),
        ("https://apigw.mka1.com", "", "the MKA1 API key is empty"),
        ("https://apigw.mka1.com", "two words", "characters a header cannot carry"),
        ("https://apigw.mka1.com", "line\nbreak", "characters a header cannot carry"),
        ("https://apigw.mka1.com", "clé", "characters a header cannot carry"),
    ],
)
def test_bad_settings_are_config_errors(base_url: str, api_key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        RegistryClient(base_url, api_key)

    assert not api_key or api_key not in str(caught.value)


@pytest.mark.parametrize("user", ["", "jane doe", "jöns"])
def test_an_on_behalf_of_id_a_header_cannot_carry_is_a_config_error(user: str) -> None:
    with pytest.raises(ConfigError, match="on-behalf-of user id"):
        RegistryClient("https://apigw.mka1.com", "key", on_behalf_of=user)


def test_repr_shows_the_url_only() -> None:
    with RegistryClient("https://apigw.mka1.com/", SECRET_KEY) as client:
        assert repr(client) == "RegistryClient(base_url='https://apigw.mka1.com')"


# -- sharing one client between threads --------------------------------------------


def test_one_client_serves_many_threads(
    client: RegistryClient, registry_server: RegistryServer
) -> None:
    ids = [CHAT, EMBED, "meetkai:vision-router-v1"]
    registry_server.inject(Fault("status", status=503, method="GET", times=6))
    barrier = threading.Barrier(12)

    def work(n: int) -> tuple[Any, str | None]:
        model_id = ids[n % len(ids)]
        barrier.wait()
        updated = client.update_model(model_id, {"contextWindow": 1000 + n})
        fetched = client.get_model(model_id)
        return updated.definition["contextWindow"], None if fetched is None else fetched.id

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(work, range(12)))

    assert results == [(1000 + n, ids[n % len(ids)]) for n in range(12)]
    assert len(registry_server.requests("PATCH")) == 12
    assert len(registry_server.requests("GET")) == 12 + 6
