"""One resolver for every command's settings: the precedence rule, where each value
came from, `registry-sync config`, --help's defaults, and every command honouring it."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from paths import GOLDEN, ROOT

from registry_sync.cli import cli
from registry_sync.errors import ConfigError
from registry_sync.settings.resolve import SETTINGS, Given, Origin, default_text, resolve_settings
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-settings-test-5e1a"
CHAT = minimal_definition("m:chat", contextWindow=8192)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {
        "MKA1_API_KEY": KEY,
        "MKA1_API_URL": None,
        "MKA1_API": None,
        "MKA1_ON_BEHALF_OF": None,
    }
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment)


# -- the rule ----------------------------------------------------------------------------

FILE = "models_dir: from-file\napi_url: https://file.example\nprune: true\nmax_deletes: 3\n"


@pytest.mark.parametrize(
    ("flags", "environ", "file", "name", "value", "origin"),
    [
        # models_dir: flag, else file, else default (no environment variable).
        (
            {"models_dir": Given(Path("f"), "--models-dir")},
            {},
            FILE,
            "models_dir",
            Path("f"),
            Origin("flag", "--models-dir"),
        ),
        ({}, {}, FILE, "models_dir", Path("from-file"), Origin("file", "registry-sync.yaml")),
        ({}, {}, "", "models_dir", Path("models"), Origin("default")),
        # api_url: flag, else variable, else file, else default.
        (
            {"api_url": Given("https://flag.example", "--api-url")},
            {"MKA1_API_URL": "https://env.example"},
            FILE,
            "api_url",
            "https://flag.example",
            Origin("flag", "--api-url"),
        ),
        (
            {},
            {"MKA1_API_URL": "https://env.example"},
            FILE,
            "api_url",
            "https://env.example",
            Origin("environment variable", "MKA1_API_URL"),
        ),
        # An empty variable is unset.
        (
            {},
            {"MKA1_API_URL": ""},
            FILE,
            "api_url",
            "https://file.example",
            Origin("file", "registry-sync.yaml"),
        ),
        ({}, {}, "", "api_url", "https://apigw.mka1.com", Origin("default")),
        # A flag set to false still wins over a file's true.
        (
            {"prune": Given(False, "--no-prune")},
            {},
            FILE,
            "prune",
            False,
            Origin("flag", "--no-prune"),
        ),
        ({}, {}, FILE, "prune", True, Origin("file", "registry-sync.yaml")),
        ({}, {}, "prune: false\n", "prune", False, Origin("file", "registry-sync.yaml")),
        ({}, {}, "", "prune", False, Origin("default")),
        (
            {"max_deletes": Given(0, "--max-deletes")},
            {},
            FILE,
            "max_deletes",
            0,
            Origin("flag", "--max-deletes"),
        ),
        ({}, {}, "max_deletes: 0\n", "max_deletes", 0, Origin("file", "registry-sync.yaml")),
        ({}, {}, "", "max_deletes", None, Origin("default")),
        (
            {},
            {"MKA1_ON_BEHALF_OF": "user-7"},
            FILE,
            "on_behalf_of",
            "user-7",
            Origin("environment variable", "MKA1_ON_BEHALF_OF"),
        ),
        (
            {"timeout": Given(5.0, "--timeout")},
            {},
            FILE,
            "timeout",
            5.0,
            Origin("flag", "--timeout"),
        ),
        ({}, {}, FILE, "retry_budget", 15.0, Origin("default")),
        ({}, {}, "protect: ['p:*']\n", "protect", ("p:*",), Origin("file", "registry-sync.yaml")),
        (
            {},
            {},
            "policy: {breaking: deny}\n",
            "deny",
            frozenset({"breaking"}),
            Origin("file", "registry-sync.yaml"),
        ),
    ],
)
def test_the_first_layer_that_sets_a_value_wins(
    repo: Path,
    flags: dict[str, Given],
    environ: dict[str, str],
    file: str,
    name: str,
    value: Any,
    origin: Origin,
) -> None:
    if file:
        write(repo / "registry-sync.yaml", file)

    settings = resolve_settings(flags, environ=environ)

    assert getattr(settings, name) == value
    assert settings.origins[name] == origin


def test_models_dir_from_the_file_is_relative_to_the_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "registry-sync.yaml", "models_dir: defs\n")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    settings = resolve_settings(environ={})
    assert settings.models_dir.resolve() == (repo / "defs").resolve()
    # The default, like a flag, is relative to the current folder.
    (repo / "registry-sync.yaml").write_text("prune: true\n", encoding="utf-8")
    assert resolve_settings(environ={}).models_dir == Path("models")


def test_every_setting_has_an_origin_and_so_has_the_file(repo: Path) -> None:
    settings = resolve_settings(environ={})
    assert set(settings.origins) == {spec.name for spec in SETTINGS} | {"config_file"}
    assert settings.config_file is None
    assert settings.origins["config_file"] == Origin("default")

    write(repo / "registry-sync.yaml", "prune: true\n")
    found = resolve_settings(environ={})
    assert found.config_file == "registry-sync.yaml"
    assert found.origins["config_file"].kind == "file"

    write(repo / "ci.yaml", "prune: false\n")
    named = resolve_settings(config_file=Path("ci.yaml"), environ={})
    assert (named.config_file, named.prune) == ("ci.yaml", False)
    assert named.origins["config_file"] == Origin("flag", "--config")


def test_a_named_config_file_must_exist(repo: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml does not exist"):
        resolve_settings(config_file=Path("nowhere.yaml"), environ={})


def test_only_settings_can_be_given(repo: Path) -> None:
    with pytest.raises(ValueError, match="not settings: strict"):
        resolve_settings({"strict": Given(True, "--strict")}, environ={})


def test_origins_read_as_people_say_them() -> None:
    assert str(Origin("flag", "--no-prune")) == "flag --no-prune"
    assert str(Origin("environment variable", "MKA1_API_URL")) == (
        "environment variable MKA1_API_URL"
    )
    assert str(Origin("file", "ci/registry-sync.yaml")) == "ci/registry-sync.yaml"
    assert str(Origin("default")) == "default"


def test_default_text_names_the_whole_chain() -> None:
    assert default_text("models_dir") == "models_dir from registry-sync.yaml, else models"
    assert default_text("prune") == "prune from registry-sync.yaml, else off"
    assert default_text("max_deletes") == "max_deletes from registry-sync.yaml, else no cap"
    assert default_text("timeout") == "60.0"


# -- --help --------------------------------------------------------------------------------


def help_of(command: str) -> str:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (
            "validate",
            "--models-dir DIRECTORY Folder of model definition files (*.yaml, *.yml, "
            "searched recursively). [default: models_dir from registry-sync.yaml, else models]",
        ),
        ("plan", "[default: prune from registry-sync.yaml, else off]"),
        ("plan", "[default: max_deletes from registry-sync.yaml, else no cap; x>=0]"),
        ("apply", "[default: api_url from registry-sync.yaml, else https://apigw.mka1.com]"),
        (
            "export",
            "--out-dir DIRECTORY Folder to write the model files to. "
            "[default: models_dir from registry-sync.yaml, else models]",
        ),
        ("graph", "[default: models_dir from registry-sync.yaml, else models]"),
        (
            "graph",
            "--retry-budget SECONDS How long to keep retrying a request on 429, 5xx or "
            "connection errors (0 disables retries). [default: 15.0; x>=0]",
        ),
    ],
)
def test_help_shows_where_a_default_comes_from(command: str, shown: str) -> None:
    assert shown in help_of(command)


def test_every_command_that_reads_files_takes_config() -> None:
    for command in ("validate", "plan", "apply", "export", "graph", "config"):
        assert "--config FILE" in help_of(command), command


# -- registry-sync config ----------------------------------------------------------------


def test_config_prints_every_setting_and_where_it_came_from(repo: Path) -> None:
    write(
        repo / "registry-sync.yaml",
        "models_dir: defs\nprune: true\nprotect: ['prod:*', 'm:x']\n"
        "ignore_fields:\n  - id: 'm:*'\n    fields: [contextWindow, hidden]\n"
        "server_defaults:\n  hidden: false\n  capabilities.supportsTopP: true\n"
        "policy: {destructive: deny}\n"
        "activation:\n  inactive: ['m:*-preview']\n"
        "  activate:\n    - {name: 'meetkai:functionary-medium', source: serving}\n"
        "    - {name: 'meetkai:whisper', source: cluster}\n"
        "limits:\n  total_nodes: 3000000\n",
    )

    result = run("config", env={"MKA1_API_URL": "http://127.0.0.1:9", "MKA1_API": "catalog"})

    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / "config.txt").read_text(encoding="utf-8")


def test_config_json_is_a_versioned_document(repo: Path) -> None:
    write(repo / "ci" / "strict.yaml", "max_deletes: 2\nfreeze: ['legacy:*']\n")

    result = run("config", "--config", "ci/strict.yaml", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format_version"] == "1"
    assert document["config_file"] == {"value": "ci/strict.yaml", "source": "flag"}
    settings = document["settings"]
    assert list(settings) == [spec.key or spec.name for spec in SETTINGS]
    assert settings["max_deletes"] == {"value": 2, "source": "file", "from": "ci/strict.yaml"}
    assert settings["freeze"] == {"value": ["legacy:*"], "source": "file", "from": "ci/strict.yaml"}
    assert settings["models_dir"] == {"value": "models", "source": "default", "from": "default"}
    assert settings["policy"]["value"] == {"destructive": "warn", "breaking": "warn"}
    assert settings["ignore_fields"]["value"] == []


def test_config_never_prints_credentials_in_the_url(repo: Path) -> None:
    result = run("config", env={"MKA1_API_URL": "https://user:hunter2@registry.example"})
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert re.search(
        r"^api_url +\(sensitive\) +environment variable MKA1_API_URL$", result.stdout, re.M
    )


def test_config_fails_on_an_invalid_file(repo: Path) -> None:
    write(repo / "registry-sync.yaml", "prune: maybe\n")
    result = run("config")
    assert result.exit_code == 1
    assert result.stderr == (
        "registry-sync.yaml:1: prune: expected true or false, got a string\n"
        "error: project configuration registry-sync.yaml is invalid: 1 problem found\n"
    )


# -- every command honours it ----------------------------------------------------------------


@pytest.fixture
def defs_repo(repo: Path) -> Path:
    """A repository whose models live in defs/, as registry-sync.yaml says."""
    write(repo / "defs" / "chat.yaml", yaml.safe_dump(CHAT))
    write(repo / "registry-sync.yaml", "models_dir: defs\n")
    return repo


@pytest.mark.usefixtures("defs_repo")
def test_validate_reads_models_dir_from_the_config() -> None:
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 model definition in 1 file: valid.\n"


def test_validate_flag_beats_the_config(defs_repo: Path) -> None:
    write(defs_repo / "other" / "a.yaml", "id: [unclosed\n")
    result = run("validate", "--models-dir", "other")
    assert result.exit_code == 1
    assert result.stderr.startswith("other/a.yaml:2: YAML syntax error")


def test_validate_takes_config(defs_repo: Path) -> None:
    write(defs_repo / "ci.yaml", "models_dir: nowhere\n")
    result = run("validate", "--config", "ci.yaml")
    assert result.exit_code == 1
    assert "nowhere does not exist" in result.stderr


@pytest.mark.usefixtures("defs_repo")
def test_validate_refuses_an_invalid_config() -> None:
    write(Path("registry-sync.yaml"), "models_dir: 3\n")
    result = run("validate")
    assert result.exit_code == 1
    assert "error: project configuration registry-sync.yaml is invalid" in result.stderr


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    seed = list_response([registry_model(CHAT, created_at=None, updated_at=1)])
    with RegistryServer(seed=seed, api_key=KEY) as running:
        yield running


def test_export_writes_to_models_dir_from_the_config(repo: Path, server: RegistryServer) -> None:
    write(repo / "registry-sync.yaml", f"models_dir: defs\napi_url: {server.url}\n")
    result = run("export")
    assert result.exit_code == 0, result.output
    assert (repo / "defs" / "m" / "chat.yaml").is_file()


def test_graph_and_plan_read_models_dir_from_the_config(
    defs_repo: Path, server: RegistryServer
) -> None:
    write(defs_repo / "registry-sync.yaml", f"models_dir: defs\napi_url: {server.url}\n")
    planned = run("plan", "--no-color")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    drawn = run("graph", "--files-only")
    assert drawn.exit_code == 0, drawn.output


def test_a_flag_max_deletes_beats_the_config(repo: Path, server: RegistryServer) -> None:
    (repo / "models").mkdir()
    write(repo / "registry-sync.yaml", f"api_url: {server.url}\nprune: true\nmax_deletes: 0\n")
    refused = run("plan", "--no-color", "--allow-delete-all")
    assert refused.exit_code == 1
    assert "error: max-deletes: " in refused.stderr
    allowed = run("plan", "--no-color", "--allow-delete-all", "--max-deletes", "1")
    assert allowed.exit_code == 0, allowed.output


# -- the pre-commit hook follows the configured folder ---------------------------------------


def test_the_pre_commit_hook_runs_validate_on_any_yaml_change(defs_repo: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(hook for hook in hooks if hook["id"] == "registry-sync-validate")
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    for changed in ("defs/chat.yaml", "models/b.yml", "registry-sync.yaml"):
        assert pattern.search(changed), changed
    assert not pattern.search("README.md")

    # What pre-commit runs, from the repository root: validate finds defs/ by itself.
    program, *args = shlex.split(hook["entry"])
    assert program == "registry-sync"
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 model definition in 1 file: valid.\n"
