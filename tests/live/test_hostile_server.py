"""A misbehaving or hostile server, and a dangerous API URL: each is a clear error,
in bounded time, and no message carries the key in any encoding."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.errors import ApiError, ResponseShapeError, TransportError
from registry_sync.live.client import NetworkDeadline, RegistryClient, RetryPolicy
from registry_sync.live.entries import parse_list_response
from registry_sync.live.sources import LiveSource, read_registry_file
from registry_sync.testing import Fault, RegistryServer, list_response

KEY = "sk-live-HOSTILE-0123456789abcdefXYZ"
NO_RETRY = RetryPolicy(max_elapsed=0, jitter=0)


PREFIXES = ("", "Bearer ", "user:", "x")


def encodings(key: str) -> list[str]:
    """Every form of the key a server might echo."""
    forms = [key, key[:12], key[-10:]]
    for prefix in PREFIXES:
        text = (prefix + key).encode()
        forms.append(base64.b64encode(text).decode())
        forms.append(base64.urlsafe_b64encode(text).decode().rstrip("="))
    return forms


def assert_no_key(text: str) -> None:
    for start in range(len(KEY) - 7):
        assert KEY[start : start + 8] not in text
    for prefix in PREFIXES:
        encoded = (prefix + KEY).encode()
        for form in (base64.b64encode(encoded), base64.urlsafe_b64encode(encoded)):
            # The characters that encode the key alone, not its neighbours.
            core = form.decode()[len(prefix) * 4 // 3 + 4 : -4]
            for start in range(len(core) - 7):
                assert core[start : start + 8] not in text


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed=list_response([]), api_key=KEY) as running:
        yield running


@pytest.fixture
def registry(server: RegistryServer) -> Iterator[RegistryServer]:
    server.clear_faults()
    yield server
    server.clear_faults()


# --- 8: server echoes ---------------------------------------------------------------------


@pytest.mark.parametrize("form", encodings(KEY), ids=lambda form: form[:6])
def test_an_error_body_echoing_the_key_in_any_form_is_scrubbed(
    registry: RegistryServer, form: str
) -> None:
    body = json.dumps({"error": {"message": f"invalid credential {form} for this route"}})
    registry.inject(Fault("status", status=401, body=body))
    with (
        RegistryClient(registry.url, KEY, retry=NO_RETRY, api="registry") as client,
        pytest.raises(ApiError) as raised,
    ):
        client.list_models()
    assert "returned 401: invalid credential " in str(raised.value)
    assert "***" in str(raised.value)
    assert_no_key(str(raised.value))


@pytest.mark.parametrize(
    "document",
    [
        {"object": KEY, "data": []},
        {"object": "list", "data": [{"id": KEY, "immutable": "no"}]},
        {"object": "list", "data": [], "has_more": KEY},
    ],
    ids=["object", "id", "has_more"],
)
def test_a_200_body_echoing_the_key_is_scrubbed_from_the_shape_error(
    registry: RegistryServer, document: object
) -> None:
    registry.inject(Fault("malformed", method="GET", body=json.dumps(document)))
    with (
        RegistryClient(registry.url, KEY, retry=NO_RETRY, api="registry") as client,
        pytest.raises(ResponseShapeError) as raised,
    ):
        client.list_models()
    assert_no_key(str(raised.value))


# --- 13: pagination -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "where"),
    [({"has_more": True}, "has_more"), ({"next": "cursor-2"}, "next")],
)
def test_a_list_that_says_it_continues_fails_closed(extra: dict[str, object], where: str) -> None:
    with pytest.raises(ResponseShapeError) as raised:
        parse_list_response({"object": "list", "data": [], **extra}, "GET /x")
    assert raised.value.where == where
    assert "API documents no pagination" in str(raised.value)
    assert "refusing to treat it as the registry's state" in str(raised.value)


def test_has_more_false_is_fine() -> None:
    assert parse_list_response({"object": "list", "data": [], "has_more": False}, "x") == []


# --- 11: deeply nested JSON ----------------------------------------------------------------


def test_deeply_nested_json_from_the_server_is_a_shape_error(registry: RegistryServer) -> None:
    registry.inject(Fault("malformed", method="GET", body="[" * 100_000 + "]" * 100_000))
    with (
        RegistryClient(registry.url, KEY, retry=NO_RETRY, api="registry") as client,
        pytest.raises(ResponseShapeError, match="nested too deeply"),
    ):
        client.list_models()


def test_deeply_nested_registry_file_is_a_shape_error(tmp_path: Path) -> None:
    saved = tmp_path / "registry.json"
    saved.write_text('{"object": "list", "data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ResponseShapeError, match="nested too deeply"):
        read_registry_file(saved)


# --- 9: deadline and size limit ----------------------------------------------------------


class RawServer:
    """A TCP server that answers every connection with ``reply(socket)``."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self.reply = reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                self.reply(connection)
            except OSError:
                pass

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def trickle_body(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
    connection.sendall(b"transfer-encoding: chunked\r\n\r\n")
    for _ in range(1000):
        connection.sendall(b"1\r\n \r\n")
        time.sleep(0.1)


def trickle_headers(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(1000):
        connection.sendall(b"x")
        time.sleep(0.1)


def endless_body(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    for _ in range(100_000):
        connection.sendall(chunk)


def declared_huge(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n{")
    time.sleep(5)


@pytest.mark.parametrize("reply", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_server_cannot_outlast_the_deadline(
    reply: Callable[[socket.socket], None],
) -> None:
    raw = RawServer(reply)
    try:
        started = time.monotonic()
        with (
            RegistryClient(
                raw.url, KEY, retry=NO_RETRY, deadline=NetworkDeadline(1), api="registry"
            ) as client,
            pytest.raises(TransportError) as raised,
        ):
            client.list_models()
        assert time.monotonic() - started < 10
    finally:
        raw.close()
    assert str(raised.value) == (
        "list registry models failed: GET /api/v1/llm/models/registry: no answer within the "
        "--timeout of 1 s for the command's network time; try again, or raise --timeout; "
        f"is {raw.url.split('//', 1)[1]} the registry's host, and reachable from here? The "
        "API URL comes from MKA1_API_URL"
    )


def test_plan_honours_timeout_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    raw = RawServer(trickle_body)
    try:
        started = time.monotonic()
        result = run(
            "plan",
            "--models-dir",
            str(tmp_path / "models"),
            "--api-url",
            raw.url,
            "--timeout",
            "1",
            "--retry-budget",
            "0",
        )
        assert time.monotonic() - started < 10
    finally:
        raw.close()
    assert result.exit_code == 1
    assert "no answer within the --timeout of 1 s" in result.stderr


@pytest.mark.parametrize("reply", [endless_body, declared_huge], ids=["endless", "declared"])
def test_a_response_past_the_size_limit_is_an_error(
    reply: Callable[[socket.socket], None],
) -> None:
    raw = RawServer(reply)
    try:
        with (
            RegistryClient(
                raw.url, KEY, retry=NO_RETRY, max_response_bytes=1024 * 1024, api="registry"
            ) as client,
            pytest.raises(ResponseShapeError) as raised,
        ):
            client.list_models()
    finally:
        raw.close()
    assert "the body is larger than 1 MB (--max-response-mb)" in str(raised.value)


def test_the_deadline_counts_only_time_on_the_network() -> None:
    deadline = NetworkDeadline(10)
    with deadline.counting(), deadline.counting():  # two requests at once count once
        time.sleep(0.05)
    time.sleep(0.05)  # idle: not counted
    assert 9.9 < deadline.remaining() < 9.96


# --- 5, 6: the API URL ----------------------------------------------------------------------


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {"MKA1_API_KEY": KEY, "MKA1_API_URL": None}
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment)


USERINFO = "has a user name or password in it; remove it"


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_a_url_with_credentials_is_refused_without_repeating_them(
    tmp_path: Path, server: RegistryServer, output_format: str
) -> None:
    (tmp_path / "models").mkdir()
    url = server.url.replace("http://", "http://alice:hunter2pw@")
    sources: list[tuple[list[str], dict[str, str | None] | None]] = [
        (["--api-url", url], None),
        ([], {"MKA1_API_URL": url}),
    ]
    for args, env in sources:
        result = run(
            "plan",
            "--models-dir",
            str(tmp_path / "models"),
            "--format",
            output_format,
            *args,
            env=env,
        )
        assert result.exit_code == 1
        assert USERINFO in result.stderr
        assert "hunter2pw" not in result.output and "alice" not in result.output
    assert all(
        not request.headers.get("authorization", "").startswith("Basic")
        for request in server.requests()
    )


def test_a_url_with_credentials_in_the_project_file_is_refused(
    tmp_path: Path, server: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "models").mkdir()
    url = server.url.replace("http://", "http://alice:hunter2pw@")
    (tmp_path / "registry-sync.yaml").write_text(f"api_url: {url}\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("plan")
    assert result.exit_code == 1
    assert "api_url: has a user name or password in it" in result.stderr
    assert "hunter2pw" not in result.output


@pytest.mark.parametrize("suffix", ["?token=abc", "#frag"])
def test_a_url_with_a_query_or_fragment_is_refused(
    tmp_path: Path, server: RegistryServer, suffix: str
) -> None:
    (tmp_path / "models").mkdir()
    result = run("plan", "--models-dir", str(tmp_path / "models"), "--api-url", server.url + suffix)
    assert result.exit_code == 1
    assert "has a query or fragment" in result.stderr
    assert "abc" not in result.output


def test_plain_http_to_another_machine_needs_the_flag_and_warns(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    common = ["plan", "--models-dir", str(tmp_path / "models"), "--api-url", "http://192.0.2.2:9"]
    refused = run(*common)
    assert refused.exit_code == 1
    assert (
        "error: the MKA1 API URL for 192.0.2.2 is plain http: the API key would cross the "
        "network unencrypted; use https://, or pass --allow-insecure-http if you really mean it"
    ) in refused.stderr
    allowed = run(*common, "--allow-insecure-http", "--timeout", "0.5", "--retry-budget", "0")
    assert allowed.exit_code == 1  # nothing listens there
    assert "warning: --allow-insecure-http: the API key is sent over plain http" in (allowed.stderr)
    assert "plain http: the API key would cross" not in allowed.stderr


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:1", "https://h.example"]
)
def test_loopback_http_and_https_need_no_flag(url: str) -> None:
    source = LiveSource(api_url=url)
    assert source.describe() == url
    assert not source.insecure()


def test_a_delete_answer_keyed_by_the_key_is_scrubbed(registry: RegistryServer) -> None:
    registry.inject(Fault("malformed", method="DELETE", body=json.dumps({KEY: True})))
    with (
        RegistryClient(registry.url, KEY, retry=NO_RETRY, api="registry") as client,
        pytest.raises(ResponseShapeError) as raised,
    ):
        client.remove_model("t:x")
    assert "an object with keys [***]" in str(raised.value)
    assert_no_key(str(raised.value))


def test_max_response_mb_is_the_limit_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    raw = RawServer(endless_body)
    try:
        result = run(
            "plan",
            "--models-dir",
            str(tmp_path / "models"),
            "--api-url",
            raw.url,
            "--max-response-mb",
            "2",
            "--retry-budget",
            "0",
        )
    finally:
        raw.close()
    assert result.exit_code == 1
    # The probe (GET /catalog) meets the endless body first: an error, never a guess.
    assert result.stderr.startswith(
        "error: unexpected response from GET /api/v1/llm/models/catalog: the body is larger "
        "than 2 MB (--max-response-mb); while finding which API generation"
    )
    assert result.stderr.endswith("refusing to treat it as the registry's state\n")
