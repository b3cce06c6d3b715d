"""Environments end to end: two local registries as staging and production, one
models/ with an overlay per environment, driven through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

STAGING_KEY = "sk-staging-env-test-3f1a"
PROD_KEY = "sk-prod-env-test-9c2e"
CHAT = "acme:chat"
EMBED = "acme:embed"
THEIRS = "meetkai:theirs"


def seed() -> dict[str, Any]:
    """Both registries hold acme:chat and acme:embed as models/ declares them, and
    another team's meetkai:theirs."""
    return list_response(
        registry_model(body, created_at=1704067200000, updated_at=1704067200000)
        for body in (
            minimal_definition(CHAT, contextWindow=8192),
            minimal_definition(EMBED),
            minimal_definition(THEIRS),
        )
    )


@dataclass
class Repo:
    root: Path
    staging: RegistryServer
    production: RegistryServer

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        environ: dict[str, str | None] = {
            "MKA1_STAGING_API_KEY": STAGING_KEY,
            "MKA1_PROD_API_KEY": PROD_KEY,
            # Left in the shell, these must never redirect a named environment.
            "MKA1_API_URL": "https://wrong.example.com",
            "MKA1_API_KEY": "sk-wrong-global-key",
            "MKA1_ENV": None,
            "NO_COLOR": None,
        }
        environ.update(env or {})
        return CliRunner().invoke(cli, list(args), env=environ)

    def writes(self, server: RegistryServer) -> list[str]:
        return [f"{r.method} {r.path}" for r in server.requests() if r.method != "GET"]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    with (
        RegistryServer(seed=seed(), api_key=STAGING_KEY) as staging,
        RegistryServer(seed=seed(), api_key=PROD_KEY) as production,
    ):
        for model_id, extra in ((CHAT, {"contextWindow": 8192}), (EMBED, {})):
            body = minimal_definition(model_id, **extra)
            write(
                tmp_path / "models" / f"{model_id.split(':')[1]}.yaml",
                yaml.safe_dump(body, sort_keys=False),
            )
        write(
            tmp_path / "registry-sync.yaml",
            "owns: ['acme:*']\n"
            "environments:\n"
            "  staging:\n"
            f"    api_url: {staging.url}\n"
            "    api_key_env: MKA1_STAGING_API_KEY\n"
            "    overlay: overlays/staging\n"
            "    vars: {tier: staging}\n"
            "  production:\n"
            f"    api_url: {production.url}\n"
            "    api_key_env: MKA1_PROD_API_KEY\n"
            "    overlay: overlays/production\n"
            "    vars: {tier: prod}\n",
        )
        write(
            tmp_path / "overlays/staging/chat.yaml",
            "id: acme:chat\n# staging runs a smaller window\ncontextWindow: 4096\n",
        )
        write(
            tmp_path / "overlays/production/chat.yaml",
            "id: acme:chat\ndisplayName: Chat (${tier})\n",
        )
        yield Repo(tmp_path, staging, production)


def test_plan_all_shows_each_environment_with_lines_in_the_overlays(repo: Repo) -> None:
    result = repo.run("plan", "--env", "all", "--detailed-exitcode")

    assert result.exit_code == 2, result.output
    text = result.stdout
    staging = text.index(f"Environment staging ({repo.staging.url})")
    production = text.index(f"Environment production ({repo.production.url})")
    assert staging < production
    assert "~ contextWindow: 8192 -> 4096  (overlays/staging/chat.yaml:3)" in text[:production]
    assert '+ displayName: "Chat (prod)"  (overlays/production/chat.yaml:2)' in text[production:]
    assert THEIRS not in text
    assert "sk-" not in result.output


def test_plan_all_as_json_is_one_versioned_document(repo: Repo) -> None:
    result = repo.run("plan", "--env", "production", "--env", "staging", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format_version"] == "1"
    plans = document["environments"]
    assert [plan["environment"] for plan in plans] == ["production", "staging"]
    assert [plan["registry"] for plan in plans] == [repo.production.url, repo.staging.url]
    assert all(plan["format_version"] == "2" for plan in plans)
    [change] = plans[1]["actions"][0]["changes"]
    assert change["origin"] == "overlays/staging/chat.yaml:3"


def test_plan_all_as_markdown_has_a_section_per_environment(repo: Repo) -> None:
    result = repo.run("plan", "--env", "all", "--format", "markdown")

    assert result.exit_code == 0, result.output
    comment = result.stdout
    assert comment.startswith("<!-- registry-sync-plan -->\n### registry-sync plan\n")
    assert "**2 environments, 2 with changes.**" in comment
    assert (
        "<details open><summary><b>staging</b>: Plan: 0 to create, 1 to update, 0 to "
        "replace, 0 to delete. 0 read-only conflicts, 0 unmanaged.</summary>"
    ) in comment
    assert comment.count("<summary><b>") == 2
    assert "| `contextWindow` (`overlays/staging/chat.yaml:3`) | `8192` | `4096` |" in comment


def test_apply_touches_only_its_environment(repo: Repo) -> None:
    result = repo.run("apply", "--env", "staging", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Environment staging ({repo.staging.url})\n")
    assert repo.writes(repo.staging) == [f"PATCH /api/v1/llm/models/registry/{CHAT}"]
    assert repo.writes(repo.production) == []
    again = repo.run("plan", "--env", "staging", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_production_plan_is_refused_by_apply_to_staging(repo: Repo) -> None:
    saved = repo.root / "production.json"
    made = repo.run("plan", "--env", "production", "--out", str(saved))
    assert made.exit_code == 0, made.output
    assert json.loads(saved.read_text("utf-8"))["environment"] == "production"

    refused = repo.run("apply", str(saved), "--env", "staging", "--auto-approve")

    assert refused.exit_code == 1
    assert "was made for environment production, not applied with --env staging" in (refused.stderr)
    assert repo.writes(repo.staging) == [] and repo.writes(repo.production) == []
    applied = repo.run("apply", str(saved), "--env", "production", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert repo.writes(repo.production) == [f"PATCH /api/v1/llm/models/registry/{CHAT}"]


def test_prune_never_lists_nor_deletes_what_owns_leaves_out(repo: Repo) -> None:
    (repo.root / "models/embed.yaml").unlink()

    result = repo.run("plan", "--env", "staging", "--prune", "--format", "json")

    assert result.exit_code == 0, result.output
    actions = {a["id"]: a["action"] for a in json.loads(result.stdout)["actions"]}
    assert actions == {CHAT: "update", EMBED: "delete"}


def test_a_file_outside_owns_is_an_error_at_its_line(repo: Repo) -> None:
    write(repo.root / "models/theirs.yaml", yaml.safe_dump(minimal_definition(THEIRS)))

    result = repo.run("plan", "--env", "staging")

    assert result.exit_code == 1
    assert "models/theirs.yaml:13: id: 'meetkai:theirs' is outside owns: [acme:*]" in (
        result.stderr
    )


def test_an_explicit_api_url_redirects_and_the_plan_says_so(repo: Repo) -> None:
    result = repo.run(
        "plan",
        "--env",
        "staging",
        "--api-url",
        repo.production.url,
        env={"MKA1_STAGING_API_KEY": PROD_KEY},
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"Environment staging ({repo.production.url})",
        f"--api-url replaces this environment's api_url {repo.staging.url}.",
    ]


def test_mka1_env_selects_and_its_key_variable_is_required(repo: Repo) -> None:
    chosen = repo.run("plan", env={"MKA1_ENV": "production"})
    assert chosen.exit_code == 0, chosen.output
    assert chosen.stdout.startswith("Environment production")
    both = repo.run("plan", "--format", "json", env={"MKA1_ENV": "staging production"})
    assert both.exit_code == 0, both.output
    plans = json.loads(both.stdout)["environments"]
    assert [plan["environment"] for plan in plans] == ["staging", "production"]

    before = len(repo.staging.requests())
    missing = repo.run("plan", "--env", "staging", env={"MKA1_STAGING_API_KEY": None})
    assert missing.exit_code == 1
    assert "MKA1_STAGING_API_KEY is not set" in missing.stderr
    assert len(repo.staging.requests()) == before

    unknown = repo.run("plan", "--env", "qa")
    assert unknown.exit_code == 1
    assert "--env qa: not an environment of registry-sync.yaml; it has: production, staging" in (
        unknown.stderr
    )


def test_validate_names_the_environment_and_finds_undefined_variables(repo: Repo) -> None:
    ok = repo.run("validate", "--env", "production")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout == "Environment production: 2 model definitions in 3 files: valid.\n"

    write(repo.root / "overlays/staging/embed.yaml", "id: acme:embed\n\ndisplayName: ${region}\n")
    bad = repo.run("validate", "--env", "staging")
    assert bad.exit_code == 1
    assert "overlays/staging/embed.yaml:3: displayName: ${region} is not defined" in bad.stderr


def test_several_environments_cannot_share_one_saved_plan(repo: Repo) -> None:
    result = repo.run("plan", "--env", "all", "--out", "plan.json")

    assert result.exit_code == 1
    assert "--out saves one environment's plan" in result.stderr


def test_render_prints_the_definitions_an_environment_gets(repo: Repo) -> None:
    write(repo.root / "overlays/production/drop.yaml", "exclude: [acme:embed]\n")

    result = repo.run("render", "--env", "production")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "# Environment production: 1 definition\n"
        "---\n"
        "# acme:chat from models/chat.yaml:1, overlays/production/chat.yaml\n"
        "id: acme:chat\n"
    )
    assert "displayName: Chat (prod)\n" in result.stdout
    assert repo.production.requests() == []


def test_config_shows_where_each_setting_of_an_environment_comes_from(repo: Repo) -> None:
    result = repo.run("config", "--env", "production")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["environment", "production", "key", "in", "MKA1_PROD_API_KEY"]
    api_url = next(line for line in lines if line.startswith("api_url"))
    assert api_url.split() == [
        "api_url",
        repo.production.url,
        "environment",
        "production",
        "in",
        "registry-sync.yaml",
    ]


def test_health_probes_the_environment_its_key_and_its_registry(repo: Repo) -> None:
    repo.production.set_unhealthy(CHAT, "upstream refused the key")
    staging = repo.run("health", "--env", "staging", "--format", "json")
    assert staging.exit_code == 0, staging.output
    production = repo.run("health", "--env", "production", "--format", "json")
    assert production.exit_code == 4, production.output
    rows = {row["id"]: row for row in json.loads(production.stdout)["models"]}
    assert rows[CHAT]["is_available"] is False
    assert rows[CHAT]["error"] == "upstream refused the key"
    assert json.loads(production.stdout)["registry"] == repo.production.url
    assert "Environment production" in production.stderr
    # Each probe went to its own registry, with its own key.
    assert [r.path for r in repo.staging.requests("POST")] and [
        r.path for r in repo.production.requests("POST")
    ]


# -- ${NAME} in an id (issue 23, item 2) ---------------------------------------------------


def test_a_variable_in_an_id_plans_applies_and_replans_to_no_changes(repo: Repo) -> None:
    body = minimal_definition("acme:chat-${tier}", displayName="chat for ${tier}")
    write(repo.root / "models" / "tiered.yaml", yaml.safe_dump(body, sort_keys=False))

    planned = repo.run("plan", "--env", "production", "--prune", "--out", "plan.json")

    assert planned.exit_code == 0, planned.output
    assert "+ acme:chat-prod will be created" in planned.stdout
    assert "${tier}" not in planned.stdout
    applied = repo.run("apply", "--env", "production", "plan.json")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 1 created" in applied.stdout
    # acme:chat-prod created; acme:chat gets production's displayName.
    assert sorted(repo.writes(repo.production)) == [
        "PATCH /api/v1/llm/models/registry/acme:chat",
        "POST /api/v1/llm/models/registry",
    ]
    live = repo.production.entries()["acme:chat-prod"]["definition"]
    assert live["displayName"] == "chat for prod"
    again = repo.run("plan", "--env", "production", "--prune", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    staging = repo.run("plan", "--env", "staging", "--prune")
    assert "+ acme:chat-staging will be created" in staging.stdout


def test_a_variable_holding_a_line_break_in_an_id_is_an_error_before_any_request(
    repo: Repo,
) -> None:
    config = repo.root / "registry-sync.yaml"
    config.write_text(config.read_text("utf-8").replace("{tier: prod}", '{tier: "a\\nb"}'))
    body = minimal_definition("acme:chat-${tier}")
    write(repo.root / "models" / "tiered.yaml", yaml.safe_dump(body, sort_keys=False))

    result = repo.run("plan", "--env", "production")

    assert result.exit_code == 1
    assert (
        "models/tiered.yaml:1: id: ${tier} holds a control character (a line break, a tab, "
        "an escape); vars: values are one line of text" in result.output
    )
    assert repo.production.requests() == []
