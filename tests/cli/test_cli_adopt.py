"""Issue 12's adoption features end to end: --target, --compact, apply --dry-run and
validate --format, the CLI against the local registry over real HTTP."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result
from paths import EXAMPLE_REGISTRY, ROOT

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-adopt-e2e-0b7d51"
API = "/api/v1/llm/models/registry"
CHAT = "team:chat"
EMBED = "team:embed"
OLD = "other:old"
NEW = "team:new"


def definition(model_id: str, **fields: Any) -> dict[str, Any]:
    upstream = {"modelId": model_id.split(":", 1)[1], "auth": {"type": "api-key", "envVar": "K"}}
    return minimal_definition(model_id, **{**upstream, **fields})


LIVE = {
    CHAT: definition(CHAT, contextWindow=8192),
    EMBED: definition(EMBED, contextWindow=1024),
    OLD: definition(OLD),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"MKA1_API_KEY": KEY, "NO_COLOR": None})


class Workspace:
    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        models = root / "models"
        models.mkdir()
        # CHAT and EMBED change, NEW is created, OLD is undeclared.
        for body in (
            definition(CHAT, contextWindow=16384),
            definition(EMBED, contextWindow=2048),
            definition(NEW),
        ):
            name = body["id"].replace(":", "-") + ".yaml"
            (models / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def run(self, command: str, *args: str) -> Result:
        return run(command, "--api-url", self.server.url, "--retry-budget", "0", *args)

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.raw_path) for r in self.server.requests() if r.method != "GET"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    seed = list_response(registry_model(body) for body in LIVE.values())
    with RegistryServer(seed=seed, api_key=KEY) as server:
        yield Workspace(tmp_path, server)


# -- --target ---------------------------------------------------------------------------


def test_plan_with_target_plans_only_matching_ids_and_says_it_is_partial(
    workspace: Workspace,
) -> None:
    result = workspace.run("plan", "--prune", "--target", "team:c*", "--target", NEW)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Partial plan: only ids matching --target team:c* --target team:new are planned; "
        "2 other mutable live entries were not compared.\n"
    )
    assert "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete." in result.stdout
    assert EMBED not in result.stdout and OLD not in result.stdout


def test_json_and_markdown_plans_say_they_are_partial(workspace: Workspace) -> None:
    document = json.loads(workspace.run("plan", "--target", CHAT, "--format", "json").stdout)
    assert (document["partial"], document["targets"], document["untargeted"]) == (
        True,
        [CHAT],
        2,
    )
    assert [action["id"] for action in document["actions"]] == [CHAT]
    markdown = workspace.run("plan", "--target", CHAT, "--format", "markdown").stdout
    assert "> [!WARNING]\n> **Partial plan: only ids matching --target team:chat" in markdown


def test_a_target_matching_nothing_is_an_error_not_no_changes(workspace: Workspace) -> None:
    for extra in (["plan"], ["apply", "--auto-approve"]):
        result = workspace.run(*extra, "--target", "team:chta")
        assert result.exit_code == 1
        assert "No changes" not in result.output
        assert result.stderr.startswith("error: --target 'team:chta' matches no id")
    assert workspace.writes() == []


def test_apply_with_target_and_prune_writes_only_matching_ids(workspace: Workspace) -> None:
    result = workspace.run(
        "apply", "--prune", "--target", "other:*", "--target", CHAT, "--auto-approve"
    )
    assert result.exit_code == 0, result.output
    assert sorted(workspace.writes()) == [
        ("DELETE", f"{API}/other%3Aold"),
        ("PATCH", f"{API}/team%3Achat"),
    ]
    entries = workspace.server.entries()
    assert entries[EMBED]["definition"]["contextWindow"] == 1024
    assert NEW not in entries


def test_delete_all_counts_the_entries_a_target_leaves_out(
    workspace: Workspace, tmp_path: Path
) -> None:
    for path in (tmp_path / "models").iterdir():
        path.unlink()
    # Every matching entry is deleted, but the registry keeps the others: allowed.
    partial = workspace.run("plan", "--prune", "--target", "team:*")
    assert partial.exit_code == 0, partial.output
    assert "delete-all" not in partial.output
    # Targeting everything is the whole registry again: refused.
    everything = workspace.run("plan", "--prune", "--target", "*")
    assert everything.exit_code == 1
    assert "error: delete-all:" in everything.stderr


def test_a_saved_partial_plan_applies_and_target_cannot_be_mixed_in(
    workspace: Workspace,
) -> None:
    planned = workspace.run("plan", "--prune", "--target", "team:*", "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    mixed = workspace.run("apply", "plan.json", "--target", CHAT, "--auto-approve")
    assert mixed.exit_code == 1
    assert "error: --target cannot be used with a saved plan" in mixed.stderr
    applied = workspace.run("apply", "plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.startswith("Partial plan: only ids matching --target team:*")
    assert OLD in workspace.server.entries()


def test_replace_outside_the_target_is_an_error(workspace: Workspace) -> None:
    result = workspace.run("plan", "--target", CHAT, "--replace", EMBED)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: --replace {EMBED}: outside every --target")


# -- apply --dry-run ----------------------------------------------------------------------


def test_dry_run_prints_what_apply_would_send_and_writes_nothing(workspace: Workspace) -> None:
    result = workspace.run("apply", "--dry-run", "--prune", "--replace", EMBED)
    assert result.exit_code == 0, result.output
    assert workspace.writes() == []
    report = result.stdout.split("\nDry run: ", 1)[1]
    assert report.startswith("apply would send 5 requests:\n")
    sent = [line.strip() for line in report.splitlines() if line.startswith("  ") and "/" in line]
    sent = [line for line in sent if line.split(" ")[0] in ("POST", "PATCH", "DELETE")]
    assert sent == [
        f"DELETE {API}/other%3Aold",
        f"PATCH {API}/team%3Achat",
        f"DELETE {API}/team%3Aembed",
        f"POST {API}",
        f"POST {API}",
    ]
    assert '      "contextWindow": 16384\n' in report
    assert '      "created": 1704067200,\n' in report
    assert KEY not in result.output
    assert report.endswith("Nothing was written (--dry-run).\n")
    # The requests shown are the ones apply sends.
    applied = workspace.run("apply", "--prune", "--replace", EMBED, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert sorted(workspace.writes()) == sorted(
        (line.split(" ")[0], line.split(" ")[1]) for line in sent
    )


def test_dry_run_of_a_refused_plan_exits_1(workspace: Workspace, tmp_path: Path) -> None:
    for path in (tmp_path / "models").iterdir():
        path.unlink()
    result = workspace.run("apply", "--dry-run", "--prune")
    assert result.exit_code == 1
    assert "Dry run" not in result.stdout
    assert workspace.writes() == []


def test_dry_run_is_text_only(workspace: Workspace) -> None:
    result = workspace.run("apply", "--dry-run", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --dry-run prints text")


# -- --compact -----------------------------------------------------------------------------


def test_compact_plan_of_the_example_fits_one_80_by_40_screen() -> None:
    result = run(
        "plan",
        "--models-dir",
        str(ROOT / "models"),
        "--registry-file",
        str(EXAMPLE_REGISTRY),
        "--compact",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = sum(max(1, math.ceil(len(line) / 80)) for line in lines)
    assert rows <= 40, result.stdout
    assert lines[0].startswith("Plan against the snapshot ")
    assert lines[0].endswith(" (offline; cannot be applied) (registry API):")
    assert "  + meetkai:vision-chat-v1  36 fields" in lines


# -- validate --format ---------------------------------------------------------------------

BROKEN = """\
id: team:chat
provider: openai-compatible
modelId: chat
apiFormat: responses
auth: {type: api-key, envVar: CHAT_KEY}
capabilities:
  modalities: {input: [text], output: [text]}
  reasoning: 'yes'
"""


def test_validate_json_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a,b.yaml").write_text(BROKEN)
    result = run("validate", "--models-dir", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert (document["definitions"], document["files"]) == (0, 1)
    assert document["problems"] == [
        {
            "file": f"{tmp_path}/a,b.yaml",
            "line": 8,
            "column": None,
            "path": "capabilities.reasoning",
            "message": "expected a boolean, got 'yes'",
            "severity": "error",
        }
    ]


def test_validate_github_prints_escaped_annotations(tmp_path: Path) -> None:
    (tmp_path / "a,b.yaml").write_text(BROKEN)
    result = run("validate", "--models-dir", str(tmp_path), "--format", "github")
    assert result.exit_code == 1
    file = str(tmp_path / "a,b.yaml").replace(":", "%3A").replace(",", "%2C")
    assert result.stdout == (
        f"::error title=registry-sync validate,file={file},line=8::"
        "capabilities.reasoning: expected a boolean, got 'yes'\n"
    )
    assert result.stderr == "error: models are invalid: 1 problem found\n"


def test_validate_formats_agree_on_valid_models() -> None:
    models = str(ROOT / "models")
    document = json.loads(run("validate", "--models-dir", models, "--format", "json").stdout)
    assert document == {
        "format_version": "1",
        "valid": True,
        "definitions": 5,
        "files": 4,
        "problems": [],
    }
    github = run("validate", "--models-dir", models, "--format", "github")
    assert github.exit_code == 0
    assert github.stdout == ""
    assert github.stderr == "5 model definitions in 4 files: valid.\n"


def test_a_saved_partial_plan_counts_what_it_left_out_again(
    workspace: Workspace, tmp_path: Path
) -> None:
    for path in (tmp_path / "models").iterdir():
        path.unlink()
    planned = workspace.run("plan", "--prune", "--target", "team:*", "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    assert json.loads((tmp_path / "plan.json").read_text())["untargeted"] == 1
    # The entry outside the target goes away before apply: the plan now deletes every
    # mutable entry, whatever the file says it left out.
    httpx.delete(
        f"{workspace.server.url}{API}/other%3Aold", headers={"Authorization": f"Bearer {KEY}"}
    ).raise_for_status()
    workspace.server.clear_requests()
    applied = workspace.run("apply", "plan.json", "--auto-approve")
    assert applied.exit_code == 1
    assert "delete-all" in applied.stderr
    assert workspace.writes() == []
