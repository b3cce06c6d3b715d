"""registry-sync.yaml: reading it, every problem at its line and key, and `plan` honouring it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from paths import ROOT

from registry_sync.cli import cli
from registry_sync.errors import ConfigError, InvalidConfig
from registry_sync.settings.config import ProjectConfig, find_config, load_config, project_config
from registry_sync.settings.ignore import IgnoreRule
from registry_sync.testing import (
    RegistryServer,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-config-test-71c4"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidConfig) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def test_every_setting_is_read(repo: Path) -> None:
    config = load_config(
        write(
            repo / "registry-sync.yaml",
            "# defaults for this repository\n"
            "models_dir: registry/models\n"
            "api_url: https://registry.example.com\n"
            "prune: true\n"
            "verify_health: true\n"
            "protect:\n"
            "  - meetkai:assistant-chat-v2\n"
            '  - "prod:*"\n'
            "ignore_fields:\n"
            '  - id: "meetkai:*"\n'
            "    fields: [healthCheck, defaultParams.temperature]\n",
        )
    )

    assert config == ProjectConfig(
        file="registry-sync.yaml",
        models_dir=Path("registry/models"),
        api_url="https://registry.example.com",
        prune=True,
        verify_health=True,
        protect=("meetkai:assistant-chat-v2", "prod:*"),
        ignore=(IgnoreRule("meetkai:*", ("healthCheck", "defaultParams.temperature")),),
    )


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "---\n"])
def test_an_empty_file_sets_nothing(repo: Path, text: str) -> None:
    assert load_config(write(repo / "registry-sync.yaml", text)) == ProjectConfig(
        file="registry-sync.yaml"
    )


def test_every_problem_is_reported_at_its_line_and_key(repo: Path) -> None:
    path = write(
        repo / "registry-sync.yaml",
        "models_dir: 3\n"
        "api_url: ftp://example.com\n"
        "prune: yes\n"
        "protect:\n"
        '  - "meetkai:*"\n'
        '  - ""\n'
        "ignore_fields:\n"
        '  - id: "a:*"\n'
        "    fields: healthCheck\n"
        "  - ids: x\n"
        "  - id: b\n"
        "    fields: []\n"
        "api_key: sk-secret-value-123\n"
        "modelsdir: x\n",
    )

    assert problems_of(path) == [
        "registry-sync.yaml:1: models_dir: expected a non-empty string, got a number",
        "registry-sync.yaml:2: api_url: must start with http:// or https:// and name a host",
        "registry-sync.yaml:3: prune: expected true or false, got a string",
        "registry-sync.yaml:6: protect[1]: expected a non-empty string, got an empty string",
        "registry-sync.yaml:9: ignore_fields[0].fields: expected a list of strings, got a string",
        "registry-sync.yaml:10: ignore_fields[1].fields: missing: the field paths not to compare",
        "registry-sync.yaml:10: ignore_fields[1].id: missing: the id or glob pattern "
        "(e.g. 'meetkai:*')",
        "registry-sync.yaml:10: ignore_fields[1].ids: unknown key; did you mean 'id'?",
        "registry-sync.yaml:12: ignore_fields[2].fields: expected at least one field path",
        "registry-sync.yaml:13: api_key: unknown key; the API key is read only from "
        "MKA1_API_KEY, never from a file",
        "registry-sync.yaml:14: modelsdir: unknown key; did you mean 'models_dir'?",
    ]


def test_values_are_never_repeated_in_messages(repo: Path) -> None:
    path = write(
        repo / "registry-sync.yaml",
        "api_url: https://user:hunter2@registry.example.com\napi_key: sk-secret-value-123\n",
    )

    problems = problems_of(path)

    assert problems[0] == (
        "registry-sync.yaml:1: api_url: has a user name or password in it; remove it: the "
        "only credential sent is the API key in MKA1_API_KEY"
    )
    assert not any("hunter2" in p or "sk-secret" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("prune: [true\n", "registry-sync.yaml:2: YAML syntax error: did not find expected ','"),
        ("prune: true\nprune: false\n", "registry-sync.yaml:2: prune: duplicate key: first at"),
        ("prune: true\n---\nprune: false\n", "registry-sync.yaml:3: a second YAML document"),
        ("- prune\n", "registry-sync.yaml:1: expected a mapping of settings, got a list"),
    ],
    ids=["syntax", "duplicate", "two-documents", "not-a-mapping"],
)
def test_a_malformed_file_is_reported_with_its_line(repo: Path, text: str, problem: str) -> None:
    problems = problems_of(write(repo / "registry-sync.yaml", text))

    assert problems[0].startswith(problem)


def test_the_file_is_found_up_to_the_repository_root_and_no_further(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = write(tmp_path / "registry-sync.yaml", "prune: false\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "teams" / "chat"
    sub.mkdir(parents=True)

    assert find_config(sub) is None  # the one above the repository does not count
    inside = write(repo / "registry-sync.yaml", "prune: true\nmodels_dir: models\n")
    assert find_config(sub) == inside
    assert find_config(tmp_path) == outside

    monkeypatch.chdir(sub)
    config = project_config()
    # models_dir is relative to the file, whichever folder the command runs in.
    assert config.models_dir == Path("../../models")
    assert config.file == "../../registry-sync.yaml"


def test_an_explicit_config_must_exist(repo: Path) -> None:
    with pytest.raises(ConfigError, match=r"configuration file nowhere\.yaml does not exist"):
        project_config(Path("nowhere.yaml"))


# -- plan honours it -------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    chat = minimal_definition("m:chat", contextWindow=8192)
    legacy = minimal_definition("m:legacy")
    seed = list_response(
        registry_model(body, created_at=None, updated_at=1) for body in (chat, legacy)
    )
    with RegistryServer(seed=seed, api_key=KEY) as running:
        yield running


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {"MKA1_API_KEY": KEY, "MKA1_API_URL": None}
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment)


@pytest.fixture
def configured(repo: Path, server: RegistryServer) -> Path:
    """A repository whose config points at the server, prunes, and ignores contextWindow."""
    models = repo / "registry" / "models"
    write(models / "chat.yaml", yaml.safe_dump(minimal_definition("m:chat", contextWindow=16384)))
    write(
        repo / "registry-sync.yaml",
        f"models_dir: registry/models\napi_url: {server.url}\nprune: true\n"
        "ignore_fields:\n  - id: 'm:*'\n    fields: [contextWindow]\n",
    )
    return repo


@pytest.mark.usefixtures("configured")
def test_plan_takes_its_defaults_from_the_config() -> None:
    result = run("plan", "--no-color")

    assert result.exit_code == 0, result.output
    # contextWindow is ignored, so chat is in sync; prune deletes the undeclared entry.
    assert "- m:legacy will be deleted" in result.stdout
    assert "m:chat" not in result.stdout
    assert "Plan: 0 to create, 0 to update, 0 to replace, 1 to delete." in result.stdout


def test_flags_and_environment_override_the_config(
    configured: Path, server: RegistryServer
) -> None:
    other = minimal_definition("m:chat", contextWindow=8192, hidden=True)
    write(configured / "other" / "chat.yaml", yaml.safe_dump(other))

    result = run("plan", "--no-color", "--no-prune", "--models-dir", "other")

    assert result.exit_code == 0, result.output
    assert "? m:legacy" in result.stdout
    assert "~ m:chat will be updated in place [breaking]  (other/chat.yaml:1)" in result.stdout

    with RegistryServer(api_key=KEY) as empty:
        elsewhere = run("plan", "--no-color", env={"MKA1_API_URL": empty.url})
        flagged = run("plan", "--no-color", "--api-url", empty.url)
    for result in (elsewhere, flagged):
        assert result.exit_code == 0, result.output
        assert "+ m:chat will be created" in result.stdout


def test_an_invalid_config_stops_the_command_with_every_problem(repo: Path) -> None:
    write(repo / "registry-sync.yaml", "prune: maybe\nprotect: x\n")

    result = run("plan", "--registry-file", "nowhere.json")

    assert result.exit_code == 1
    assert result.stderr == (
        "registry-sync.yaml:1: prune: expected true or false, got a string\n"
        "registry-sync.yaml:2: protect: expected a list of strings, got a string\n"
        "error: project configuration registry-sync.yaml is invalid: 2 problems found\n"
    )


def test_config_names_a_file_explicitly(repo: Path, server: RegistryServer) -> None:
    write(
        repo / "models" / "chat.yaml",
        yaml.safe_dump(minimal_definition("m:chat", contextWindow=8192)),
    )
    write(repo / "ci" / "strict.yaml", f"api_url: {server.url}\nprune: true\n")

    result = run("plan", "--no-color", "--config", "ci/strict.yaml")

    assert result.exit_code == 0, result.output
    assert "- m:legacy will be deleted" in result.stdout


def test_the_documented_example_is_valid(repo: Path) -> None:
    docs = ROOT / "docs" / "configuration.md"
    readme = docs.read_text(encoding="utf-8")
    section = readme.split("## The project configuration: `registry-sync.yaml`", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]

    config = load_config(write(repo / "registry-sync.yaml", example))

    assert config.protect == ("meetkai:assistant-chat-v2", "prod:*")
    assert config.ignore == (IgnoreRule("meetkai:*", ("healthCheck", "defaultParams.temperature")),)


def test_server_defaults_are_read_by_field_path(repo: Path) -> None:
    config = load_config(
        write(
            repo / "registry-sync.yaml",
            "server_defaults:\n  hidden: false\n  capabilities.supportsTopP: true\n",
        )
    )
    assert config.server_defaults == {"hidden": False, "capabilities.supportsTopP": True}


def test_server_defaults_problems_are_at_their_lines(repo: Path) -> None:
    path = write(
        repo / "registry-sync.yaml",
        "server_defaults:\n  hiden: false\n  id: x\n  rpm: null\n",
    )
    assert problems_of(path) == [
        "registry-sync.yaml:2: server_defaults.hiden: expected a definition field path such "
        "as 'hidden'; did you mean 'hidden'?",
        "registry-sync.yaml:3: server_defaults.id: expected a definition field path such as "
        "'hidden'; the id is never a default",
        "registry-sync.yaml:4: server_defaults.rpm: expected the value the server fills in, "
        "got null",
    ]
    listed = write(repo / "registry-sync.yaml", "server_defaults: [hidden]\n")
    assert problems_of(listed) == [
        "registry-sync.yaml:1: server_defaults: expected a mapping of field path to value, "
        "got a list"
    ]


def test_a_configuration_file_that_is_a_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "registry-sync.yaml"
    os.mkfifo(path)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).endswith(
        "registry-sync.yaml: a named pipe, not a regular file; only regular files are read"
    )


def test_verify_health_must_be_true_or_false(repo: Path) -> None:
    path = write(repo / "registry-sync.yaml", "verify_health: sometimes\n")

    assert problems_of(path) == [
        "registry-sync.yaml:1: verify_health: expected true or false, got a string"
    ]
