"""The first errors a new user meets say what to fix: an unreachable registry names its
host and the setting that named it, a refused key the variable holding it (an
environment's api_key_env), and a URL already holding /api/v1 says so."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer

KEY = "sk-first-errors-0c4d7e"


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    with RegistryServer(api_key=KEY) as running:
        yield running


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, env: dict[str, str | None]) -> Result:
    base: dict[str, str | None] = {"MKA1_API_URL": None, "MKA1_API_KEY": None}
    return CliRunner().invoke(cli, ["plan", "--retry-budget", "0", *args], env={**base, **env})


@pytest.mark.usefixtures("repo")
def test_an_unreachable_registry_names_its_host_and_mka1_api_url(closed_port: int) -> None:
    result = run(env={"MKA1_API_URL": f"http://127.0.0.1:{closed_port}", "MKA1_API_KEY": KEY})
    assert result.exit_code == 1
    assert "cannot connect" in result.output
    assert result.output.rstrip().endswith(
        f"is 127.0.0.1:{closed_port} the registry's host, and reachable from here? The API "
        "URL comes from MKA1_API_URL"
    )


@pytest.mark.usefixtures("repo")
def test_an_unreachable_registry_named_by_the_flag_names_the_flag(closed_port: int) -> None:
    result = run("--api-url", f"http://127.0.0.1:{closed_port}", env={"MKA1_API_KEY": KEY})
    assert result.output.rstrip().endswith("The API URL comes from --api-url")


def test_an_unreachable_registry_of_the_file_names_the_file(repo: Path, closed_port: int) -> None:
    (repo / "registry-sync.yaml").write_text(f"api_url: http://127.0.0.1:{closed_port}\n")
    result = run(env={"MKA1_API_KEY": KEY})
    assert result.output.rstrip().endswith("The API URL comes from api_url in registry-sync.yaml")


@pytest.mark.usefixtures("repo")
def test_a_refused_key_names_mka1_api_key(server: RegistryServer) -> None:
    result = run(env={"MKA1_API_URL": server.url, "MKA1_API_KEY": "sk-not-the-key"})
    assert result.exit_code == 1
    host = server.url.split("//", 1)[1]
    assert "returned 401" in result.output
    assert result.output.rstrip().endswith(
        f"{host} refused the API key in MKA1_API_KEY: set it to an admin API key of that "
        "registry (the API URL comes from MKA1_API_URL)"
    )
    assert "sk-not-the-key" not in result.output


def test_a_refused_key_names_the_environments_api_key_env(
    repo: Path, server: RegistryServer
) -> None:
    (repo / "registry-sync.yaml").write_text(
        f"environments:\n  staging:\n    api_url: {server.url}\n"
        "    api_key_env: MKA1_STAGING_API_KEY\n"
    )
    result = run("--env", "staging", env={"MKA1_STAGING_API_KEY": "sk-stale-staging"})
    assert result.exit_code == 1
    assert result.output.rstrip().endswith(
        "refused the API key in MKA1_STAGING_API_KEY (the api_key_env of environment "
        "staging): set it to an admin API key of that registry (the API URL comes from the "
        "api_url of environment staging in registry-sync.yaml)"
    )


@pytest.mark.usefixtures("repo")
@pytest.mark.parametrize("suffix", ["/api/v1", "/api/v1/", "/api/v1/llm/models/registry"])
def test_a_url_already_holding_api_v1_says_so(server: RegistryServer, suffix: str) -> None:
    result = run(env={"MKA1_API_URL": server.url + suffix, "MKA1_API_KEY": KEY})
    assert result.exit_code == 1
    assert (
        "already has /api/v1 in its path, which registry-sync adds to every request; give "
        f"the base URL only: {server.url}"
    ) in result.output


def test_registry_sync_yaml_with_api_v1_is_refused_at_its_line(repo: Path) -> None:
    (repo / "registry-sync.yaml").write_text(
        "prune: false\napi_url: https://apigw.mka1.com/api/v1\n"
    )
    result = run(env={"MKA1_API_KEY": KEY})
    assert result.exit_code == 1
    assert "registry-sync.yaml:2: api_url: " in result.output
    assert "give the base URL only: https://apigw.mka1.com" in result.output


# -- model files: the line, and what to do ------------------------------------------

START = """\
id: acme:chat-v1
provider: openai-compatible
modelId: chat-v1
apiFormat: responses
"""
AUTH = "auth:\n  type: api-key\n  envVar: CHAT_API_KEY\n"
CAPABILITIES = "capabilities:\n  modalities: {input: [text], output: [text]}\n  reasoning: false\n"


def validate(repo: Path, text: str) -> Result:
    (repo / "models" / "chat.yaml").write_text(text, encoding="utf-8")
    return CliRunner().invoke(cli, ["validate"], env={"MKA1_API_KEY": None})


@pytest.mark.parametrize(
    ("text", "line", "key", "under", "above"),
    [
        (START + "auth:\n  type: api-key\n    envVar: X\n" + CAPABILITIES, 7, "envVar", "type", 6),
        ("id: acme:chat-v1\n  provider: x\n", 2, "provider", "id", 1),
        (START + AUTH + CAPABILITIES + "rateLimits:\n  - scope: org\n      rpm: 60\n", 13, "rpm",
         "scope", 12),
    ],
    ids=["nested", "top-level", "in-a-list"],
)  # fmt: skip
def test_an_over_indented_key_is_indented_too_far_under_the_key_above(
    repo: Path, text: str, line: int, key: str, under: str, above: int
) -> None:
    result = validate(repo, text)
    assert result.exit_code == 1
    assert result.output.startswith(
        f"models/chat.yaml:{line}: YAML syntax error: '{key}' is indented too far under "
        f"'{under}' (line {above}), which already has a value: line it up with '{under}'\n"
    )


def test_other_syntax_errors_keep_the_parsers_words(repo: Path) -> None:
    result = validate(repo, "id: acme:x: y\n")
    assert "models/chat.yaml:1: YAML syntax error: mapping values are not allowed" in result.output


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            START + "envVar: CHAT_API_KEY\nauth:\n  type: api-key\n" + CAPABILITIES,
            "models/chat.yaml:5: envVar: unknown field here; it belongs under 'auth': did you "
            "mean auth.envVar?",
        ),
        (
            START + AUTH + "  contextWindow: 8192\n" + CAPABILITIES,
            "models/chat.yaml:8: auth.contextWindow: unknown field here; it belongs at the top "
            "level: did you mean contextWindow?",
        ),
        (
            START + AUTH + CAPABILITIES.replace("reasoning", "input: [text]\n  reasoning"),
            "models/chat.yaml:10: capabilities.input: unknown field here; it belongs under "
            "'capabilities.modalities': did you mean capabilities.modalities.input?",
        ),
    ],
    ids=["top-level-to-auth", "nested-to-top-level", "one-level-too-high"],
)
def test_a_key_that_belongs_elsewhere_names_its_path(repo: Path, text: str, problem: str) -> None:
    result = validate(repo, text)
    assert result.exit_code == 1
    assert problem in result.output.splitlines()


def test_an_undocumented_api_format_is_a_warning_with_a_suggestion(repo: Path) -> None:
    result = validate(repo, START.replace("responses", "Response") + AUTH + CAPABILITIES)
    assert result.exit_code == 0
    assert (
        "models/chat.yaml:4: apiFormat: warning: 'Response' is not a value the API documents "
        "(responses, completions, embeddings, images, transcriptions, tts); did you mean "
        "'responses'? Other values are sent as they are"
    ) in result.output
    strict = CliRunner().invoke(cli, ["validate", "--strict"], env={"MKA1_API_KEY": None})
    assert strict.exit_code == 1
