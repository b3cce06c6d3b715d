"""Health end to end: `apply --verify-health [--rollback-on-unhealthy]`, `health`, and a
plan touching a down model, through the CLI against the local registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-health-e2e-3f9a1c7d2b"
DOWN = "meetkai:down-v1"  # made unhealthy on the server
FINE = "meetkai:fine-v1"
OTHER = "team:other-v1"
ERROR = "GET https://llm.wrong.example.com/v1/models: connection refused"


def definition(model_id: str, **fields: Any) -> dict[str, Any]:
    return minimal_definition(
        model_id, auth={"type": "api-key", "envVar": "UPSTREAM_KEY"}, **fields
    )


LIVE = {
    DOWN: definition(DOWN, rpm=60, baseUrl="https://llm.example.com/v1"),
    FINE: definition(FINE, rpm=60),
    OTHER: definition(OTHER),
}


class Workspace:
    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        self.models = root / "models"
        self.models.mkdir()

    def write_models(self, *definitions: dict[str, Any]) -> None:
        for old in self.models.glob("*.yaml"):
            old.unlink()
        for body in definitions:
            name = body["id"].replace(":", "-") + ".yaml"
            (self.models / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def run(self, command: str, *args: str) -> Result:
        return CliRunner().invoke(
            cli,
            [command, "--api-url", self.server.url, *args],
            env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None},
        )

    def definitions(self) -> dict[str, dict[str, Any]]:
        return {
            model_id: {
                k: v for k, v in entry["definition"].items() if k not in ("source", "immutable")
            }
            for model_id, entry in self.server.entries().items()
        }


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    seed = list_response(registry_model(body) for body in LIVE.values())
    with RegistryServer(seed=seed, api_key=KEY, unhealthy={DOWN: ERROR}) as server:
        yield Workspace(tmp_path, server)


# A change to the down model (a wrong baseUrl) and a healthy change, in one run.
CHANGED = (
    definition(DOWN, rpm=120, baseUrl="https://llm.wrong.example.com/v1"),
    definition(FINE, rpm=120),
    definition(OTHER),
)


def test_verify_health_exits_4_and_names_the_unhealthy_entry_with_its_error(
    workspace: Workspace,
) -> None:
    workspace.write_models(*CHANGED)

    result = workspace.run("apply", "--auto-approve", "--verify-health")

    assert result.exit_code == 4, result.output
    report = result.stdout.split("Health after apply:\n", 1)[1]
    assert report == (
        f"  UNHEALTHY  {DOWN}: {ERROR}\n"
        f"  healthy    {FINE}\n"
        "\n"
        f"Unhealthy after apply: {DOWN}. Fix what the error names (baseUrl, the key "
        "variable, the upstream) in models/ and apply again, or apply with "
        "--rollback-on-unhealthy to put unhealthy entries back as they were.\n"
    )
    assert workspace.definitions()[DOWN]["rpm"] == 120
    assert KEY not in result.output


def test_rollback_restores_the_unhealthy_entry_and_keeps_the_healthy_change(
    workspace: Workspace,
) -> None:
    before = workspace.definitions()
    workspace.write_models(*CHANGED)

    result = workspace.run("apply", "--auto-approve", "--rollback-on-unhealthy", "--format", "json")

    assert result.exit_code == 4, result.output
    after = workspace.definitions()
    assert after[DOWN] == before[DOWN]
    assert after[FINE]["rpm"] == 120
    document = json.loads(result.stdout)
    assert document["outcome"] == "complete"
    by_id = {item["id"]: item for item in document["health"]}
    assert by_id[DOWN]["state"] == "unhealthy"
    assert by_id[DOWN]["error"] == ERROR
    assert by_id[DOWN]["rollback"] == {"how": "patch", "succeeded": True, "detail": "restored"}
    assert by_id[FINE]["state"] == "healthy" and by_id[FINE]["rollback"] is None


def test_verify_health_comes_from_the_config_and_a_healthy_run_exits_0(
    workspace: Workspace,
) -> None:
    (workspace.root / "registry-sync.yaml").write_text("verify_health: true\n")
    workspace.write_models(
        definition(DOWN, rpm=60, baseUrl="https://llm.example.com/v1"),
        definition(FINE, rpm=90),
        definition(OTHER),
    )

    healthy = workspace.run("apply", "--auto-approve")
    workspace.write_models(*CHANGED)
    off = workspace.run("apply", "--auto-approve", "--no-verify-health")

    assert healthy.exit_code == 0, healthy.output
    assert f"  healthy    {FINE}\n" in healthy.stdout
    assert off.exit_code == 0, off.output
    assert "Health after apply" not in off.stdout
    probes = [r.path for r in workspace.server.requests("POST") if r.path.endswith("/health")]
    assert probes == [f"/api/v1/llm/models/registry/{FINE}/health"]  # none in the second run


def test_rollback_with_no_verify_health_is_a_usage_error(workspace: Workspace) -> None:
    workspace.write_models(*CHANGED)

    result = workspace.run(
        "apply", "--auto-approve", "--no-verify-health", "--rollback-on-unhealthy"
    )

    assert result.exit_code == 1
    assert "--rollback-on-unhealthy needs the health probes" in result.output
    assert workspace.definitions()[FINE]["rpm"] == 60


def test_health_lists_the_unhealthy_id_and_exits_4(workspace: Workspace) -> None:
    workspace.write_models(*LIVE.values())

    result = workspace.run("health")

    assert result.exit_code == 4, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "AVAILABLE", "LAST", "CHECK", "ERROR"]
    assert lines[1].startswith(f"{DOWN}  NO ") and lines[1].endswith(f"UTC  {ERROR}")
    assert lines[2].startswith(f"{FINE}  yes ")
    assert lines[-1] == (
        "2 available, 1 unavailable, 0 unknown. Fix what each error names (baseUrl, the "
        "key variable, the upstream) in models/ and apply again."
    )


def test_health_json_and_target_and_markdown(workspace: Workspace) -> None:
    workspace.write_models(*LIVE.values(), definition("team:absent-v1"))

    only_team = workspace.run("health", "--target", "team:*", "--format", "json")
    markdown = workspace.run("health", "--target", DOWN, "--format", "markdown")
    nothing = workspace.run("health", "--target", "nope:*")

    assert only_team.exit_code == 1, only_team.output  # an absent entry: unknown
    document = json.loads(only_team.stdout)
    assert document["summary"] == {"available": 1, "unavailable": 0, "unknown": 1}
    assert [(m["id"], m["is_available"], m["error"]) for m in document["models"]] == [
        ("team:absent-v1", None, "not in the registry"),
        (OTHER, True, None),
    ]
    assert markdown.exit_code == 4
    assert markdown.stdout.startswith("| id | available | last check | error |\n")
    assert f"| `{DOWN}` | NO |" in markdown.stdout
    assert nothing.exit_code == 1
    assert "no id declared in models/ matches --target nope:*" in nothing.output


def test_a_plan_touching_the_down_model_shows_its_live_health(workspace: Workspace) -> None:
    workspace.write_models(*CHANGED)

    text = workspace.run("plan")
    document = json.loads(workspace.run("plan", "--format", "json").stdout)
    markdown = workspace.run("plan", "--format", "markdown")

    assert "! this model is down now (last health check " in text.stdout
    assert f"UTC): {ERROR}" in text.stdout
    health = {action["id"]: action["live_health"] for action in document["actions"]}
    assert health[DOWN]["is_available"] is False and health[DOWN]["error"] == ERROR
    assert health[FINE]["is_available"] is True
    assert health[OTHER] is None
    assert "<b>this model is down now</b>" in markdown.stdout
