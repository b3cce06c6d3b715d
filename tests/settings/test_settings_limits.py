"""limits: in registry-sync.yaml: the bound on one run's work, checked, resolved and shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry_sync.cli import cli
from registry_sync.desired.bounds import LoadLimits
from registry_sync.errors import InvalidConfig
from registry_sync.github.inputs import ActionInputs, resolve_options
from registry_sync.operations.inputs import load_limits
from registry_sync.settings.config import load_config
from registry_sync.settings.resolve import Origin, resolve_settings

MB = 1024 * 1024


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(repo: Path, text: str) -> Path:
    path = repo / "registry-sync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_limits_above_and_below_the_defaults_reach_the_loader(repo: Path) -> None:
    write_config(repo, "limits:\n  total_nodes: 5000000\n  total_bytes: 1000\n")

    settings = resolve_settings()

    assert (settings.total_nodes, settings.total_bytes) == (5_000_000, 1000)
    assert settings.origins["total_nodes"] == Origin("file", "registry-sync.yaml")
    assert load_limits(settings) == LoadLimits(total_nodes=5_000_000, total_bytes=1000)


def test_a_limit_left_out_is_the_default(repo: Path) -> None:
    write_config(repo, "limits:\n  total_bytes: 134217728\n")

    settings = resolve_settings()

    assert load_limits(settings) == LoadLimits(total_nodes=2_000_000, total_bytes=128 * MB)
    assert settings.origins["total_nodes"] == Origin("default")


def test_an_environment_keeps_the_top_level_limits(repo: Path) -> None:
    write_config(
        repo,
        "limits: {total_nodes: 3000000}\n"
        "environments:\n"
        "  prod: {api_url: 'https://prod.example', api_key_env: PROD_KEY}\n",
    )

    settings = resolve_settings(environment="prod")

    assert load_limits(settings) == LoadLimits(total_nodes=3_000_000)
    assert LoadLimits.of(settings.scope()) == LoadLimits(total_nodes=3_000_000)


def test_the_action_reads_the_limits_with_or_without_an_environment(repo: Path) -> None:
    config = load_config(
        write_config(
            repo,
            "limits: {total_nodes: 3000000}\n"
            "environments:\n"
            "  prod: {api_url: 'https://prod.example', api_key_env: PROD_KEY}\n",
        )
    )

    plain = resolve_options(ActionInputs(), config, {})
    prod = resolve_options(ActionInputs(registry_env="prod"), config, {})

    assert plain.limits == prod.limits == LoadLimits(total_nodes=3_000_000)


def test_bad_limits_are_errors_at_their_lines(repo: Path) -> None:
    path = write_config(
        repo,
        "limits:\n"
        "  total_nodes: 0\n"
        "  total_bytes: -5\n"
        "  total_files: 3\n"
        "environments:\n"
        "  prod:\n"
        "    api_url: https://prod.example\n"
        "    api_key_env: PROD_KEY\n"
        "    limits: {total_nodes: 3}\n",
    )

    with pytest.raises(InvalidConfig) as caught:
        load_config(path)

    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:2: limits.total_nodes: expected a whole number of YAML nodes "
        "(1 or more), got 0",
        "registry-sync.yaml:3: limits.total_bytes: expected a whole number of bytes "
        "(1 or more), got -5",
        "registry-sync.yaml:4: limits.total_files: unknown key; did you mean 'total_nodes'?",
        "registry-sync.yaml:9: environments.prod.limits: set at the top level only: one "
        "run's files are bounded once",
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("'64MB'", "a string"),
        ("true", "a boolean"),
        ("1.5", "a number"),
        ("null", "null"),
        ("[1]", "a list"),
    ],
)
def test_a_limit_is_a_whole_number(repo: Path, value: str, got: str) -> None:
    path = write_config(repo, f"# limits\nlimits:\n  total_nodes: {value}\n")

    with pytest.raises(InvalidConfig) as caught:
        load_config(path)

    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:3: limits.total_nodes: expected a whole number of YAML nodes "
        f"(1 or more), got {got}"
    ]


def test_limits_is_a_mapping(repo: Path) -> None:
    path = write_config(repo, "limits: 5000000\n")

    with pytest.raises(InvalidConfig) as caught:
        load_config(path)

    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:1: limits: expected a mapping with total_nodes or total_bytes, "
        "got a number"
    ]


def test_config_shows_the_limits_and_where_they_came_from(repo: Path) -> None:
    write_config(repo, "limits:\n  total_nodes: 3000000\n")

    result = CliRunner().invoke(cli, ["config", "--format", "json"])

    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert settings["limits.total_nodes"] == {
        "value": 3_000_000,
        "source": "file",
        "from": "registry-sync.yaml",
    }
    assert settings["limits.total_bytes"] == {
        "value": 64 * MB,
        "source": "default",
        "from": "default",
    }


def test_validate_refuses_a_bad_limit_before_reading_a_model(repo: Path) -> None:
    write_config(repo, "limits:\n  total_bytes: lots\n")
    (repo / "models").mkdir()

    result = CliRunner().invoke(cli, ["validate"])

    assert result.exit_code == 1
    assert (
        "registry-sync.yaml:2: limits.total_bytes: expected a whole number of bytes "
        "(1 or more), got a string"
    ) in result.stderr
