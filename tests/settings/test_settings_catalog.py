"""The settings of the catalog generation (issue 20): ``api`` (``--api``, ``MKA1_API``,
``api:`` at the top level and per environment) and the ``activation:`` choices
(``inactive``, ``activate``, ``switch``): their checks at their lines, the one
precedence rule, per-environment replacement, ``registry-sync config`` and ``--help``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from paths import ROOT

from registry_sync.cli import cli
from registry_sync.cli.options import live_source_options, resolved
from registry_sync.errors import ConfigError, InvalidConfig
from registry_sync.schema.generations import APIS
from registry_sync.settings.config import ProjectConfig, load_config
from registry_sync.settings.defaults import ACTIVATION_SOURCES
from registry_sync.settings.resolve import (
    API_CHOICES,
    SETTINGS,
    Given,
    Origin,
    Settings,
    default_text,
    resolve_settings,
)

FILE = "registry-sync.yaml"
ENVIRONMENT = "    api_url: https://prod.example.com\n    api_key_env: PROD_KEY\n"


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


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {
        "MKA1_API_KEY": None,
        "MKA1_API_URL": None,
        "MKA1_API": None,
        "MKA1_ENV": None,
        "MKA1_ON_BEHALF_OF": None,
    }
    environment.update(env or {})
    return CliRunner().invoke(cli, list(args), env=environment, terminal_width=200)


# -- reading ----------------------------------------------------------------------------

ACTIVATION = (
    "api: catalog\n"
    "activation:\n"
    "  inactive: ['acme:*-preview', 'acme:old']\n"
    "  activate:\n"
    "    - {name: 'meetkai:functionary-medium', source: serving}\n"
    "    - name: 'meetkai:whisper'\n"
    "      source: cluster\n"
    "  switch: ['acme:chat']\n"
)


def test_api_and_activation_are_read(repo: Path) -> None:
    config = load_config(write(repo / FILE, ACTIVATION))

    assert config == ProjectConfig(
        file=FILE,
        api="catalog",
        inactive=("acme:*-preview", "acme:old"),
        activate=(("meetkai:functionary-medium", "serving"), ("meetkai:whisper", "cluster")),
        switch=("acme:chat",),
    )


@pytest.mark.parametrize("api", APIS)
def test_every_generation_can_be_pinned(repo: Path, api: str) -> None:
    assert load_config(write(repo / FILE, f"api: {api}\n")).api == api


def test_an_environment_holds_only_what_its_entry_sets(repo: Path) -> None:
    config = load_config(
        write(
            repo / FILE,
            "environments:\n  prod:\n" + ENVIRONMENT + "    api: registry\n"
            "    activation:\n      activate: []\n      switch: ['acme:chat']\n"
            "  dev:\n    api_url: https://dev.example.com\n    api_key_env: DEV_KEY\n",
        )
    )

    assert config.environments["prod"].rails == {
        "api": "registry",
        "activate": (),
        "switch": ("acme:chat",),
    }
    assert config.environments["dev"].rails == {}


# -- every problem at its line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "api: 3\n",
            [
                "registry-sync.yaml:1: api: expected registry or catalog (leave it out to "
                "detect the API), got a number"
            ],
        ),
        (
            "api: Catalog\n",
            [
                "registry-sync.yaml:1: api: expected registry or catalog (leave it out to "
                "detect the API), got a string; did you mean 'catalog'?"
            ],
        ),
        (
            "api: ''\n",
            [
                "registry-sync.yaml:1: api: expected registry or catalog (leave it out to "
                "detect the API), got an empty string"
            ],
        ),
        (
            "apis: catalog\n",
            ["registry-sync.yaml:1: apis: unknown key; did you mean 'api'?"],
        ),
        (
            "prune: true\nactivation: [acme:x]\n",
            [
                "registry-sync.yaml:2: activation: expected a mapping with inactive, "
                "activate or switch, got a list"
            ],
        ),
        (
            "activation:\n  inactve: ['a:*']\n",
            ["registry-sync.yaml:2: activation.inactve: unknown key; did you mean 'inactive'?"],
        ),
        (
            "activation:\n  inactive: 'a:*'\n",
            ["registry-sync.yaml:2: activation.inactive: expected a list of strings, got a string"],
        ),
        (
            "activation:\n  inactive:\n    - 'a:*'\n    - ''\n    - 3\n",
            [
                "registry-sync.yaml:4: activation.inactive[1]: expected a non-empty string, "
                "got an empty string",
                "registry-sync.yaml:5: activation.inactive[2]: expected a non-empty string, "
                "got a number",
            ],
        ),
        (
            "activation:\n  inactive:\n    - 'a:*'\n    - 'b:*'\n    - 'a:*'\n",
            [
                "registry-sync.yaml:5: activation.inactive[2]: listed twice (first at line 3); "
                "keep one"
            ],
        ),
        (
            "activation:\n  activate: 'meetkai:chat'\n",
            [
                "registry-sync.yaml:2: activation.activate: expected a list of {name, source} "
                "mappings, got a string"
            ],
        ),
        (
            "activation:\n  activate:\n    - 'meetkai:chat'\n",
            [
                "registry-sync.yaml:3: activation.activate[0]: expected a mapping such as "
                "{name: 'meetkai:chat', source: serving}, got a string"
            ],
        ),
        (
            "activation:\n  activate:\n    - name: 'meetkai:chat'\n      sorce: serving\n",
            [
                "registry-sync.yaml:3: activation.activate[0].source: missing: serving or "
                "cluster, the source that serves the name",
                "registry-sync.yaml:4: activation.activate[0].sorce: unknown key; "
                "did you mean 'source'?",
            ],
        ),
        (
            "activation:\n  activate:\n    - source: serving\n",
            [
                "registry-sync.yaml:3: activation.activate[0].name: missing: the registry "
                "name to activate (e.g. 'meetkai:functionary-medium')"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 3, source: serving}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].name: expected a registry name, "
                "got a number"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 'meetkai:chat v2', source: serving}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].name: expected a registry name, "
                "without white space"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 'meetkai:*', source: serving}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].name: expected one registry "
                "name, not a pattern (* ? [)"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 'acme:chat', source: byo}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].source: expected serving or "
                "cluster; a byo name is activated by declaring it in the models folder"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 'meetkai:chat', source: servng}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].source: expected serving or "
                "cluster, got a string; did you mean 'serving'?"
            ],
        ),
        (
            "activation:\n  activate:\n    - {name: 'meetkai:chat', source: [serving]}\n",
            [
                "registry-sync.yaml:3: activation.activate[0].source: expected serving or "
                "cluster, got a list"
            ],
        ),
        (
            "activation:\n  activate:\n"
            "    - {name: 'meetkai:chat', source: serving}\n"
            "    - {name: 'meetkai:embed', source: cluster}\n"
            "    - {name: 'meetkai:chat', source: cluster}\n",
            [
                "registry-sync.yaml:5: activation.activate[2].name: listed twice (first at "
                "line 3); a name is served from one source: keep one"
            ],
        ),
        (
            "activation:\n  inactive: ['meetkai:chat']\n  activate:\n"
            "    - {name: 'meetkai:chat', source: serving}\n",
            [
                "registry-sync.yaml:4: activation.activate[0].name: also in "
                "activation.inactive: a name is either kept inactive or activated"
            ],
        ),
        (
            "activation:\n  switch: 'acme:chat'\n",
            [
                "registry-sync.yaml:2: activation.switch: expected a list of registry names, "
                "got a string"
            ],
        ),
        (
            "activation:\n  switch:\n    - 'acme:chat'\n    - 'acme:*'\n    - 'a b'\n"
            "    - ''\n    - 'acme:chat'\n",
            [
                "registry-sync.yaml:4: activation.switch[1]: expected one registry name, "
                "not a pattern (* ? [)",
                "registry-sync.yaml:5: activation.switch[2]: expected a registry name, "
                "without white space",
                "registry-sync.yaml:6: activation.switch[3]: expected a registry name, "
                "got an empty string",
                "registry-sync.yaml:7: activation.switch[4]: listed twice (first at line 3); "
                "keep one",
            ],
        ),
        (
            "environments:\n  prod:\n" + ENVIRONMENT + "    api: catalogue\n"
            "    activation:\n      activate:\n        - {name: 'x:y', source: byo}\n"
            "      swtich: []\n",
            [
                "registry-sync.yaml:5: environments.prod.api: expected registry or catalog "
                "(leave it out to detect the API), got a string; did you mean 'catalog'?",
                "registry-sync.yaml:8: environments.prod.activation.activate[0].source: "
                "expected serving or cluster; a byo name is activated by declaring it in "
                "the models folder",
                "registry-sync.yaml:9: environments.prod.activation.swtich: unknown key; "
                "did you mean 'switch'?",
            ],
        ),
        (
            "environments:\n  prod:\n" + ENVIRONMENT + "    activation:\n      inactive:\n"
            "        - 'a:*'\n        - 'a:*'\n",
            [
                "registry-sync.yaml:8: environments.prod.activation.inactive[1]: listed twice "
                "(first at line 7); keep one"
            ],
        ),
    ],
    ids=[
        "api-not-a-string",
        "api-misspelt",
        "api-empty",
        "api-key-misspelt",
        "activation-not-a-mapping",
        "activation-key-misspelt",
        "inactive-not-a-list",
        "inactive-bad-items",
        "inactive-twice",
        "activate-not-a-list",
        "activate-item-not-a-mapping",
        "activate-item-key-misspelt",
        "activate-name-missing",
        "activate-name-not-a-string",
        "activate-name-white-space",
        "activate-name-pattern",
        "activate-source-byo",
        "activate-source-misspelt",
        "activate-source-not-a-string",
        "activate-name-twice",
        "activate-name-also-inactive",
        "switch-not-a-list",
        "switch-bad-items",
        "environment-api-and-activation",
        "environment-inactive-twice",
    ],
)
def test_every_problem_is_reported_at_its_line(repo: Path, text: str, problems: list[str]) -> None:
    assert problems_of(write(repo / FILE, text)) == problems


def test_activation_with_the_registry_api_is_not_a_problem(repo: Path) -> None:
    # The file cannot know the generation in effect (a flag, MKA1_API or the probe
    # decides): the choices are read, and ignored with a warning by what runs.
    config = load_config(write(repo / FILE, "api: registry\nactivation: {switch: ['a:b']}\n"))
    assert (config.api, config.switch) == ("registry", ("a:b",))


def test_activation_sources_are_the_platform_ones() -> None:
    assert ACTIVATION_SOURCES == ("serving", "cluster")
    assert API_CHOICES == APIS


# -- precedence of api ----------------------------------------------------------------------

PINNED = (
    "api: registry\n"
    "environments:\n"
    "  prod:\n" + ENVIRONMENT + "    api: catalog\n"
    "  dev:\n    api_url: https://dev.example.com\n    api_key_env: DEV_KEY\n"
)
IN_PROD = Origin("environment", "prod in registry-sync.yaml")
IN_FILE = Origin("file", "registry-sync.yaml")


@pytest.mark.parametrize(
    ("flags", "environ", "text", "environment", "value", "origin"),
    [
        # The flag beats the variable, which beats the environment's entry.
        (
            {"api": Given("registry", "--api")},
            {"MKA1_API": "catalog"},
            PINNED,
            "prod",
            "registry",
            Origin("flag", "--api"),
        ),
        (
            {},
            {"MKA1_API": "registry"},
            PINNED,
            "prod",
            "registry",
            Origin("environment variable", "MKA1_API"),
        ),
        # An empty variable is unset.
        ({}, {"MKA1_API": ""}, PINNED, "prod", "catalog", IN_PROD),
        # The entry beats the top level; an entry without api takes the top level's.
        ({}, {}, PINNED, "prod", "catalog", IN_PROD),
        ({}, {}, PINNED, "dev", "registry", IN_FILE),
        ({}, {}, PINNED, None, "registry", IN_FILE),
        # Nothing pins it: None, the live source detects the generation.
        ({}, {}, "prune: true\n", None, None, Origin("default")),
        ({}, {}, "", None, None, Origin("default")),
    ],
    ids=[
        "flag",
        "variable",
        "empty-variable",
        "environment",
        "top-level-under-environment",
        "top-level",
        "default",
        "no-file",
    ],
)
def test_api_is_resolved_by_the_one_rule(
    repo: Path,
    flags: dict[str, Given],
    environ: dict[str, str],
    text: str,
    environment: str | None,
    value: str | None,
    origin: Origin,
) -> None:
    if text:
        write(repo / FILE, text)

    settings = resolve_settings(flags, environ=environ, environment=environment)

    assert settings.api == value
    assert settings.origins["api"] == origin


def test_a_wrong_mka1_api_is_an_error_naming_the_variable(repo: Path) -> None:
    with pytest.raises(ConfigError, match=r"^MKA1_API: expected registry or catalog; unset it"):
        resolve_settings(environ={"MKA1_API": "Catalog"})


def test_api_help_names_the_whole_chain() -> None:
    assert default_text("api") == "api from registry-sync.yaml, else detected"
    names = [spec.name for spec in SETTINGS]
    assert names.index("api") == names.index("api_url") + 1


# -- activation per environment ---------------------------------------------------------------

LAYERED = (
    "activation:\n"
    "  inactive: ['acme:*-preview']\n"
    "  activate: [{name: 'meetkai:chat', source: serving}]\n"
    "  switch: ['acme:chat']\n"
    "environments:\n"
    "  prod:\n" + ENVIRONMENT + "    activation:\n"
    "      inactive: ['acme:*']\n"
    "      activate: []\n"
    "  staging:\n    api_url: https://staging.example.com\n    api_key_env: STAGING_KEY\n"
    "    activation: {}\n"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        (
            None,
            {
                "inactive": (("acme:*-preview",), IN_FILE),
                "activate": ((("meetkai:chat", "serving"),), IN_FILE),
                "switch": (("acme:chat",), IN_FILE),
            },
        ),
        # Each key the entry sets replaces the top level's (an empty list too: nothing
        # activated in prod); a key it leaves out comes from the top level.
        (
            "prod",
            {
                "inactive": (("acme:*",), IN_PROD),
                "activate": ((), IN_PROD),
                "switch": (("acme:chat",), IN_FILE),
            },
        ),
        # An empty activation: sets nothing.
        (
            "staging",
            {
                "inactive": (("acme:*-preview",), IN_FILE),
                "activate": ((("meetkai:chat", "serving"),), IN_FILE),
                "switch": (("acme:chat",), IN_FILE),
            },
        ),
    ],
)
def test_an_environment_replaces_each_activation_key_it_sets(
    repo: Path, environment: str | None, expected: dict[str, tuple[Any, Origin]]
) -> None:
    write(repo / FILE, LAYERED)

    settings = resolve_settings(environ={}, environment=environment)

    found = {name: (getattr(settings, name), settings.origins[name]) for name in expected}
    assert found == expected


def test_without_activation_nothing_is_chosen(repo: Path) -> None:
    settings = resolve_settings(environ={})
    assert (settings.inactive, settings.activate, settings.switch) == ((), (), ())
    assert {settings.origins[name] for name in ("inactive", "activate", "switch")} == {
        Origin("default")
    }


def test_activation_against_the_registry_api_is_named_as_ignored(repo: Path) -> None:
    write(repo / FILE, LAYERED)
    settings = resolve_settings(environ={}, environment="prod")

    assert settings.activation_ignored("catalog") is None
    assert settings.activation_ignored("registry") == (
        "activation.inactive (environment prod in registry-sync.yaml), activation.switch "
        "(registry-sync.yaml): ignored against the registry API, which has no activation "
        "(every entry it holds is served); they apply to the catalog API"
    )
    write(repo / FILE, "prune: true\n")
    assert resolve_settings(environ={}).activation_ignored("registry") is None


# -- registry-sync config -------------------------------------------------------------------


def test_config_json_shows_api_and_activation(repo: Path) -> None:
    write(repo / FILE, ACTIVATION)

    result = run("config", "--format", "json")

    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert settings["api"] == {"value": "catalog", "source": "file", "from": FILE}
    assert settings["activation.inactive"] == {
        "value": ["acme:*-preview", "acme:old"],
        "source": "file",
        "from": FILE,
    }
    assert settings["activation.activate"]["value"] == [
        {"name": "meetkai:functionary-medium", "source": "serving"},
        {"name": "meetkai:whisper", "source": "cluster"},
    ]
    assert settings["activation.switch"]["value"] == ["acme:chat"]
    assert result.stderr == ""


def test_config_json_shows_a_detected_api_as_null(repo: Path) -> None:
    result = run("config", "--format", "json")
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert settings["api"] == {"value": None, "source": "default", "from": "default"}
    assert settings["activation.activate"]["value"] == []


def test_config_text_shows_each_environment_layer(repo: Path) -> None:
    write(repo / FILE, LAYERED)

    result = run("config", "--env", "prod", env={"MKA1_API": "catalog"})

    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "api catalog environment variable MKA1_API" in lines
    assert "activation.inactive acme:* environment prod in registry-sync.yaml" in lines
    assert "activation.activate (none) environment prod in registry-sync.yaml" in lines
    assert "activation.switch acme:chat registry-sync.yaml" in lines


def test_config_warns_when_the_pinned_registry_api_ignores_activation(repo: Path) -> None:
    write(repo / FILE, LAYERED)

    warned = run("config", env={"MKA1_API": "registry"})
    quiet = run("config")  # not pinned: the generation is not known here

    assert warned.exit_code == quiet.exit_code == 0
    assert warned.stderr == (
        "warning: activation.inactive (registry-sync.yaml), activation.activate "
        "(registry-sync.yaml), activation.switch (registry-sync.yaml): ignored against the "
        "registry API, which has no activation (every entry it holds is served); they apply "
        "to the catalog API\n"
    )
    assert quiet.stderr == ""


def test_config_refuses_a_wrong_mka1_api(repo: Path) -> None:
    result = run("config", env={"MKA1_API": "v2"})
    assert result.exit_code == 1
    assert result.stderr == (
        "error: MKA1_API: expected registry or catalog; unset it to detect the API\n"
    )


# -- --api on the commands that talk to the registry -------------------------------------------


@pytest.mark.parametrize("command", ["plan", "apply", "export", "health", "graph"])
def test_every_command_that_talks_to_the_registry_takes_api(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "--api [registry|catalog] The API generation the registry speaks [env: MKA1_API]" in (
        text
    )
    assert "[default: api from registry-sync.yaml, else detected]" in text


@pytest.mark.parametrize("command", ["plan", "export", "graph"])
def test_an_unknown_api_is_a_usage_error(command: str) -> None:
    result = run(command, "--api", "v2")
    assert result.exit_code == 1
    assert "Invalid value for '--api'" in result.stderr


@click.command()
@live_source_options
def show_api(source: object) -> None:
    """What a command that shares the source options resolves for api."""
    settings: Settings = resolved(None)
    click.echo(f"{settings.api} {settings.origins['api']}")


@pytest.mark.parametrize(
    ("args", "env", "shown"),
    [
        (["--api", "catalog"], {"MKA1_API": "registry"}, "catalog flag --api"),
        ([], {"MKA1_API": "registry"}, "registry environment variable MKA1_API"),
        ([], {}, "catalog registry-sync.yaml"),
    ],
)
def test_the_flag_reaches_the_settings(
    repo: Path, args: list[str], env: dict[str, str], shown: str
) -> None:
    write(repo / FILE, "api: catalog\n")
    result = CliRunner().invoke(show_api, args, env={"MKA1_API": None, **env})
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{shown}\n"


# -- the documentation ------------------------------------------------------------------------


def test_the_documented_activation_example_is_valid(repo: Path) -> None:
    docs = ROOT / "docs" / "configuration.md"
    section = docs.read_text(encoding="utf-8").split("## Activation", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]

    config = load_config(write(repo / FILE, example))

    assert config.api == "catalog"
    assert config.inactive and config.activate and config.switch
