"""Environments and ownership: registry-sync.yaml's environments:, owns:, and a plan
that names its environment (saved plans record it; apply refuses another's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.desired.ownership import is_owned, outside_owns
from registry_sync.errors import ConfigError, InvalidConfig, PlanFileError
from registry_sync.github.inputs import ActionInputs, resolve_options
from registry_sync.github.steps import project_key, settings_arguments
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.document import render_json
from registry_sync.plan.model import Action, Plan
from registry_sync.plan.planfile import read_plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.render.environments import render_environments_markdown
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text
from registry_sync.settings.config import Environment, ProjectConfig, load_config
from registry_sync.settings.resolve import Given, resolve_settings

CONFIG = (
    "models_dir: models\n"
    "api_url: https://apigw.example.com\n"
    "protect: ['meetkai:*']\n"
    "owns: ['acme:*']\n"
    "environments:\n"
    "  staging:\n"
    "    api_url: https://staging.example.com\n"
    "    api_key_env: MKA1_STAGING_API_KEY\n"
    "    overlay: overlays/staging\n"
    "    vars: {region: eu, replicas: 3}\n"
    "  production:\n"
    "    api_url: https://prod.example.com\n"
    "    api_key_env: MKA1_PROD_API_KEY\n"
    "    protect: ['*']\n"
    "    max_deletes: 0\n"
    "    policy: {destructive: deny}\n"
    "    owns: ['acme:*', 'shared:*']\n"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_environments_are_read_with_their_own_settings(repo: Path) -> None:
    config = load_config(write(repo / "registry-sync.yaml", CONFIG))

    assert config.owns == ("acme:*",)
    assert config.environments == {
        "staging": Environment(
            name="staging",
            api_url="https://staging.example.com",
            api_key_env="MKA1_STAGING_API_KEY",
            line=6,
            overlay=Path("overlays/staging"),
            vars={"region": "eu", "replicas": "3"},
        ),
        "production": Environment(
            name="production",
            api_url="https://prod.example.com",
            api_key_env="MKA1_PROD_API_KEY",
            line=11,
            rails={
                "protect": ("*",),
                "max_deletes": 0,
                "deny": frozenset({"destructive"}),
                "owns": ("acme:*", "shared:*"),
            },
        ),
    }


def test_selecting_an_environment_layers_its_entry_over_the_top_level(repo: Path) -> None:
    config = load_config(write(repo / "registry-sync.yaml", CONFIG))

    staging = config.select("staging")
    production = config.select("production")

    assert (staging.environment, staging.api_url, staging.api_key_env) == (
        "staging",
        "https://staging.example.com",
        "MKA1_STAGING_API_KEY",
    )
    # Keys the entry leaves out come from the top level; keys it sets replace them.
    assert (staging.protect, staging.owns, staging.max_deletes) == (
        ("meetkai:*",),
        ("acme:*",),
        None,
    )
    assert (production.protect, production.owns, production.max_deletes) == (
        ("*",),
        ("acme:*", "shared:*"),
        0,
    )
    assert production.deny == frozenset({"destructive"})
    assert staging.overlay == Path("overlays/staging") and production.overlay is None
    assert config.environment is None and config.api_url == "https://apigw.example.com"


def test_an_unknown_environment_names_the_known_ones(repo: Path) -> None:
    config = load_config(write(repo / "registry-sync.yaml", CONFIG))

    with pytest.raises(
        ConfigError,
        match=r"--env prod: not an environment of registry-sync.yaml; "
        r"it has: production, staging",
    ):
        config.select("prod")
    with pytest.raises(ConfigError, match="declares no environments"):
        ProjectConfig(file="registry-sync.yaml").select("staging")


def test_every_environment_problem_is_at_its_line_and_key(repo: Path) -> None:
    path = write(
        repo / "registry-sync.yaml",
        "environments:\n"
        "  Staging:\n"
        "    api_url: https://s.example.com\n"
        "  dev:\n"
        "    api_url: ftp://dev.example.com\n"
        "    api_key_env: not a name\n"
        "    models_dir: x\n"
        "    vars: {ok: 1, bad: [1]}\n"
        "    prune: maybe\n"
        "  all:\n"
        "    api_url: https://a.example.com\n"
        "  test:\n"
        "    api_key_env: MKA1_TEST_KEY\n"
        "owns: acme\n",
    )

    with pytest.raises(InvalidConfig) as caught:
        load_config(path)

    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:2: environments.Staging: expected a lower-case name such as "
        "'staging' (letters, digits, - and _; 'all' means every environment)",
        "registry-sync.yaml:5: environments.dev.api_url: must start with http:// or https:// "
        "and name a host",
        "registry-sync.yaml:6: environments.dev.api_key_env: expected an environment variable name",
        "registry-sync.yaml:7: environments.dev.models_dir: unknown key; expected one of "
        "'api_url', 'api', 'api_key_env', 'overlay', 'vars', 'prune', 'protect', "
        "'ignore_fields', 'server_defaults', 'freeze', 'max_deletes', 'policy', 'owns', "
        "'activation'",
        "registry-sync.yaml:8: environments.dev.vars.bad: expected a string, got a list",
        "registry-sync.yaml:9: environments.dev.prune: expected true or false, got a string",
        "registry-sync.yaml:10: environments.all: expected a lower-case name such as "
        "'staging' (letters, digits, - and _; 'all' means every environment)",
        "registry-sync.yaml:12: environments.test: missing api_url: an environment names "
        "its own registry",
        "registry-sync.yaml:14: owns: expected a list of strings, got a string",
    ]


def desired(model_id: str) -> DesiredDefinition:
    return DesiredDefinition(id=model_id, body={"id": model_id}, file="models/x.yaml", line=1)


def live(model_id: str) -> LiveEntry:
    return LiveEntry(id=model_id, definition={"id": model_id}, immutable=False, source="api")


def test_live_entries_outside_owns_are_never_listed_nor_pruned() -> None:
    entries = [live("acme:old"), live("meetkai:chat"), live("meetkai:embed")]
    options = PlanOptions(prune=True, owns=("acme:*",), environment="staging")

    plan = build_plan([], entries, options)

    assert [(change.id, change.action) for change in plan.changes] == [("acme:old", Action.DELETE)]
    assert plan.environment == "staging"
    # Without owns every id is the repository's.
    unowned = build_plan([], entries, PlanOptions(prune=True))
    assert unowned.count(Action.DELETE) == 3


@pytest.mark.parametrize(
    ("model_id", "owns", "owned"),
    [
        ("acme:chat", (), True),
        ("acme:chat", ("acme:*",), True),
        ("ACME:chat", ("acme:*",), False),
        ("meetkai:chat", ("acme:*", "meetkai:chat"), True),
        ("meetkai:embed", ("acme:*", "meetkai:chat"), False),
    ],
)
def test_ownership_globs(model_id: str, owns: tuple[str, ...], owned: bool) -> None:
    assert is_owned(model_id, owns) is owned


def test_a_file_declaring_an_id_outside_owns_is_an_error_at_its_id(repo: Path) -> None:
    write(repo / "models/x.yaml", "# theirs\nprovider: openai\nid: meetkai:chat\n")
    declared = [DesiredDefinition("meetkai:chat", {}, "models/x.yaml", 2), desired("acme:a")]

    problems = outside_owns(declared, ("acme:*",), "registry-sync.yaml")

    assert [str(problem) for problem in problems] == [
        "models/x.yaml:3: id: 'meetkai:chat' is outside owns: [acme:*] of registry-sync.yaml; "
        "another team's id, or add a pattern for it to owns"
    ]


def plan_for(environment: str | None) -> Plan:
    return build_plan(
        [],
        [live("acme:old")],
        PlanOptions(registry="https://staging.example.com", environment=environment),
    )


def test_renderers_name_the_environment() -> None:
    plan = plan_for("staging")

    assert render_text(plan).splitlines()[:2] == [
        "Environment staging (https://staging.example.com)",
        "",
    ]
    assert "Environment `staging`. Registry `https://staging.example.com`" in render_markdown(plan)
    assert json.loads(render_json(plan))["environment"] == "staging"
    # Without environments the documents are what they always were.
    assert "environment" not in json.loads(render_json(plan_for(None)))
    assert "Environment" not in render_text(plan_for(None))


def test_a_saved_plan_records_its_environment_and_apply_refuses_another(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(plan_for("production")), encoding="utf-8")
    registry = "https://staging.example.com"

    assert read_plan(saved, registry=registry, environment="production").environment == (
        "production"
    )
    with pytest.raises(
        PlanFileError,
        match=r"was made for environment production, not applied "
        r"with --env staging; apply it with the --env it was planned for",
    ):
        read_plan(saved, registry=registry, environment="staging")
    with pytest.raises(
        PlanFileError, match="made for environment production, not applied without --env"
    ):
        read_plan(saved, registry=registry)
    saved.write_text(render_json(plan_for(None)), encoding="utf-8")
    with pytest.raises(PlanFileError, match="made for no environment, not applied with --env"):
        read_plan(saved, registry=registry, environment="staging")


def test_the_action_resolves_an_environment_like_the_cli(repo: Path) -> None:
    config = load_config(write(repo / "registry-sync.yaml", CONFIG))
    environ = {"MKA1_API_URL": "https://wrong.example.com"}

    options = resolve_options(ActionInputs(registry_env="production"), config, environ)

    assert (options.environment, options.api_url, options.api_key_env) == (
        "production",
        "https://prod.example.com",
        "MKA1_PROD_API_KEY",
    )
    assert settings_arguments(options) == ["--env", "production", "--config", "registry-sync.yaml"]
    assert project_key(options, None).text == "models/ → https://prod.example.com (production)"
    given = resolve_options(
        ActionInputs(registry_env="staging", api_url="http://127.0.0.1:9"), config, environ
    )
    assert settings_arguments(given)[:4] == ["--env", "staging", "--api-url", "http://127.0.0.1:9"]
    plain = resolve_options(ActionInputs(), config, environ)
    assert (plain.environment, plain.api_key_env) == (None, "MKA1_API_KEY")
    assert settings_arguments(plain)[:2] == ["--api-url", "https://wrong.example.com"]
    with pytest.raises(ConfigError, match="--env qa: not an environment"):
        resolve_options(ActionInputs(registry_env="qa"), config, environ)


def test_the_settings_resolver_layers_the_environment_between_flags_and_file(repo: Path) -> None:
    write(repo / "registry-sync.yaml", CONFIG)
    environ = {"MKA1_API_URL": "https://wrong.example.com"}

    production = resolve_settings(environ=environ, environment="production")
    flagged = resolve_settings(
        {
            "api_url": Given("http://127.0.0.1:9", "--api-url"),
            "max_deletes": Given(3, "--max-deletes"),
        },
        environ=environ,
        environment="production",
    )
    plain = resolve_settings(environ=environ)

    assert (production.api_url, production.protect, production.max_deletes) == (
        "https://prod.example.com",
        ("*",),
        0,
    )
    assert str(production.origins["protect"]) == "environment production in registry-sync.yaml"
    assert str(production.origins["prune"]) == "default"
    assert (production.api_key_env, production.owns) == (
        "MKA1_PROD_API_KEY",
        ("acme:*", "shared:*"),
    )
    assert (flagged.api_url, flagged.max_deletes) == ("http://127.0.0.1:9", 3)
    assert flagged.environment_api_url == "https://prod.example.com"
    assert (plain.api_url, plain.environment, plain.owns) == (
        "https://wrong.example.com",
        None,
        ("acme:*",),
    )
    assert plain.protect == ("meetkai:*",)


def test_the_markdown_of_several_environments_keeps_within_the_size_limit() -> None:
    def big(environment: str) -> Plan:
        desired = [
            DesiredDefinition(f"acme:m{i:03d}", {"id": f"acme:m{i:03d}", "rpm": 2}, "m.yaml", i)
            for i in range(300)
        ]
        entries = [
            LiveEntry(id=d.id, definition={"id": d.id, "rpm": 1}, immutable=False, source="api")
            for d in desired
        ]
        options = PlanOptions(
            registry=f"https://{environment}.example.com", environment=environment
        )
        return build_plan(desired, entries, options)

    comment = render_environments_markdown([big("staging"), big("production")], limit=20_000)

    assert len(comment) <= 20_000
    assert comment.count("<summary><b>") == 2
    assert comment.count("**Not shown:**") == 2
