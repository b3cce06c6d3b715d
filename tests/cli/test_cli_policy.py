"""Policy at plan time, end to end: rails and risk in every format, the same refusal from
apply, reroute graph checks in validate and plan, and `registry-sync graph`.

One registry server for the module: nothing here writes to it (every apply is refused,
which the request log confirms).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.errors import InvalidConfig
from registry_sync.settings.config import load_config
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-policy-e2e-3c9a"
IMMUTABLE = "sys:base"


def rule(trigger: str, target: str) -> dict[str, Any]:
    kind, _, modality = trigger.partition(":")
    found: dict[str, Any] = {"type": kind}
    if modality:
        found["modality"] = modality
    return {"trigger": found, "targetModelId": target}


LIVE = {
    "t:chat": minimal_definition(
        "t:chat", contextWindow=8192, rerouteRules=[rule("error-fallback", "t:backup")]
    ),
    "t:backup": minimal_definition("t:backup", contextWindow=32768),
    "t:big": minimal_definition("t:big", contextWindow=128000),
    "t:legacy": minimal_definition("t:legacy"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    entries = [registry_model(body) for body in LIVE.values()]
    entries.append(registry_model(minimal_definition(IMMUTABLE), immutable=True))
    with RegistryServer(seed=list_response(entries), api_key=KEY) as running:
        yield running


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    return tmp_path


def write_models(repo: Path, *bodies: dict[str, Any]) -> None:
    for body in bodies:
        name = body["id"].replace(":", "-") + ".yaml"
        (repo / "models" / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")


def run(*args: str) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None}
    )


def plan(server: RegistryServer, *args: str) -> Result:
    return run("plan", "--api-url", server.url, *args)


def writes(server: RegistryServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests() if r.method != "GET"]


def live_as_files(repo: Path, *skip: str) -> None:
    write_models(repo, *(body for model_id, body in LIVE.items() if model_id not in skip))


RAILS = [
    pytest.param(
        "protect: ['t:leg*']\n",
        ("t:chat", "t:backup", "t:big"),
        "protect",
        "t:legacy is protected (protect: 't:leg*') and the plan would delete it",
        id="protect",
    ),
    pytest.param(
        "max_deletes: 0\n",
        ("t:chat", "t:backup", "t:big"),
        "max-deletes",
        "the plan deletes 1 entry, more than --max-deletes 0",
        id="max-deletes",
    ),
    pytest.param(
        "",
        (),
        "delete-all",
        "the plan deletes every mutable entry in the registry (4 of 4), the usual result of "
        "an empty or mistyped models folder (models/); pass --allow-delete-all if that is "
        "really intended",
        id="delete-all",
    ),
    pytest.param(
        "freeze: ['t:big']\n",
        ("t:chat", "t:backup", "t:big", "t:legacy"),
        "freeze",
        "t:big is frozen (freeze: 't:big') and the plan would update it",
        id="freeze",
    ),
]


@pytest.mark.parametrize(("config", "declared", "rule_name", "message"), RAILS)
def test_a_rail_fails_the_plan_in_every_format_and_apply_refuses_alike(
    server: RegistryServer,
    repo: Path,
    config: str,
    declared: tuple[str, ...],
    rule_name: str,
    message: str,
) -> None:
    (repo / "registry-sync.yaml").write_text(config, "utf-8")
    write_models(repo, *(LIVE[model_id] for model_id in declared))
    if rule_name == "freeze":
        write_models(repo, {**LIVE["t:big"], "displayName": "Big"})

    text = plan(server, "--prune", "--no-color")
    detailed = plan(server, "--prune", "--detailed-exitcode", "--format", "json")
    markdown = plan(server, "--prune", "--format", "markdown")

    for result in (text, detailed, markdown):
        assert result.exit_code == 1, result.output
        assert f"error: {rule_name}: {message}" in result.stderr
    assert text.stdout.startswith(
        f"Violations: apply will refuse this plan (1 violation):\n  x {rule_name}: {message}\n"
    )
    (violation,) = json.loads(detailed.stdout)["violations"]
    assert violation["rule"] == rule_name
    assert violation["message"] == message
    assert f"> - ⛔ **{rule_name}**" in markdown.stdout
    assert "Apply will refuse this plan (1 violation)" in markdown.stdout

    server.clear_requests()
    applied = run("apply", "--api-url", server.url, "--prune", "--auto-approve")
    assert applied.exit_code == 1
    assert f"apply refused; nothing was written:\n  {message}\n" in applied.stderr
    assert writes(server) == []


def test_flags_override_the_rails_of_the_config(server: RegistryServer, repo: Path) -> None:
    (repo / "registry-sync.yaml").write_text("max_deletes: 0\n", "utf-8")
    live_as_files(repo, "t:legacy")

    assert plan(server, "--prune", "--max-deletes", "1").exit_code == 0
    empty = repo / "empty"
    empty.mkdir()
    assert plan(server, "--prune", "--models-dir", "empty", "--max-deletes", "9").exit_code == 1
    allowed = plan(
        server, "--prune", "--models-dir", "empty", "--max-deletes", "9", "--allow-delete-all"
    )
    assert allowed.exit_code == 0, allowed.output


def breaking_models(repo: Path) -> None:
    live_as_files(repo)
    write_models(repo, {**LIVE["t:chat"], "apiFormat": "chat-completions"})


REASON = 'apiFormat changed ("responses" -> "chat-completions")'


def test_an_api_format_change_is_breaking_in_every_format(
    server: RegistryServer, repo: Path
) -> None:
    breaking_models(repo)

    text = plan(server, "--no-color")
    document = json.loads(plan(server, "--format", "json").stdout)
    markdown = plan(server, "--format", "markdown").stdout

    assert text.exit_code == 0, text.output
    assert "~ t:chat will be updated in place [breaking]" in text.stdout
    assert f"      ! {REASON}\n" in text.stdout
    assert "\nRisk: 0 destructive, 1 breaking.\n" in text.stdout
    (chat,) = (a for a in document["actions"] if a["id"] == "t:chat")
    assert (chat["risk"], chat["risk_reasons"]) == ("breaking", [REASON])
    assert document["summary"]["risk"] == {"safe": 0, "breaking": 1, "destructive": 0}
    assert document["violations"] == []
    assert "**breaking, update** `t:chat`" in markdown
    assert r'apiFormat changed ("responses" -\> "chat-completions")' in markdown


def test_policy_deny_fails_the_plan_until_the_run_allows_it(
    server: RegistryServer, repo: Path
) -> None:
    (repo / "registry-sync.yaml").write_text("policy:\n  breaking: deny\n", "utf-8")
    breaking_models(repo)

    denied = plan(server, "--detailed-exitcode")
    allowed = plan(server, "--detailed-exitcode", "--allow", "breaking")
    other = plan(server, "--allow", "destructive")

    assert denied.exit_code == 1
    assert (
        f"error: breaking-denied: t:chat: breaking change ({REASON}) denied by "
        "policy.breaking: deny in registry-sync.yaml; pass --allow breaking if it is intended"
    ) in denied.stderr
    assert allowed.exit_code == 2, allowed.output
    assert other.exit_code == 1
    server.clear_requests()
    refused = run("apply", "--api-url", server.url, "--auto-approve")
    assert refused.exit_code == 1
    assert "denied by policy.breaking: deny" in refused.stderr
    assert writes(server) == []


def test_a_saved_plan_is_judged_again_at_apply(server: RegistryServer, repo: Path) -> None:
    live_as_files(repo, "t:legacy")
    saved = plan(server, "--prune", "--out", "plan.json", "--detailed-exitcode")
    assert saved.exit_code == 2, saved.output
    document = json.loads((repo / "plan.json").read_text("utf-8"))
    assert document["violations"] == []

    # Rails given at apply count, whatever the file says.
    server.clear_requests()
    refused = run(
        "apply", "plan.json", "--api-url", server.url, "--auto-approve", "--max-deletes", "0"
    )
    assert refused.exit_code == 1
    assert "the plan deletes 1 entry, more than --max-deletes 0" in refused.stderr
    assert writes(server) == []

    # A saved plan whose violations were edited away is refused all the same.
    (repo / "registry-sync.yaml").write_text("protect: ['t:legacy']\n", "utf-8")
    plan(server, "--prune", "--out", "plan.json")
    document = json.loads((repo / "plan.json").read_text("utf-8"))
    assert [v["rule"] for v in document["violations"]] == ["protect"]
    document["violations"] = []
    for action in document["actions"]:
        action["risk"], action["risk_reasons"] = "safe", []
    (repo / "plan.json").write_text(json.dumps(document), "utf-8")
    tampered = run("apply", "plan.json", "--api-url", server.url, "--auto-approve")
    assert tampered.exit_code == 1
    assert "t:legacy is protected (protect: 't:legacy')" in tampered.stderr
    assert writes(server) == []


def test_deleting_a_reroute_target_fails_the_plan(server: RegistryServer, repo: Path) -> None:
    live_as_files(repo, "t:backup")

    result = plan(server, "--prune", "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["violations"] == [
        {
            "rule": "reroute-target-deleted",
            "id": "t:backup",
            "message": "t:backup is deleted by the plan, but t:chat still reroutes to it "
            "(rerouteRules[0], error-fallback); retarget or remove that rule first, or keep "
            "t:backup",
        }
    ]


def test_a_retargeted_reroute_rule_is_drawn_in_the_markdown(
    server: RegistryServer, repo: Path
) -> None:
    live_as_files(repo)
    write_models(repo, {**LIVE["t:chat"], "rerouteRules": [rule("error-fallback", "t:big")]})

    result = plan(server, "--format", "markdown")

    assert result.exit_code == 0, result.output
    assert r"reroute rule rerouteRules\[0\] retargeted (t:backup -\> t:big)" in result.stdout
    diagram = result.stdout.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert diagram == (
        "flowchart LR\n"
        '  n0["t:backup"]\n'
        '  n1["t:big"]\n'
        '  n2["t:chat"]\n'
        '  n2 -.->|"removed: error-fallback"| n0\n'
        '  n2 ==>|"added: error-fallback"| n1\n'
        "  linkStyle 0 stroke:#cf222e\n"
        "  linkStyle 1 stroke:#1a7f37\n"
        "  classDef changed fill:#fff8c5,stroke:#9a6700\n"
        "  class n2 changed\n"
    )


# --- the reroute graph in validate and plan ----------------------------------------------


def test_validate_names_every_file_and_line_of_a_cycle(repo: Path) -> None:
    write_models(
        repo,
        minimal_definition("t:a", rerouteRules=[rule("error-fallback", "t:b")]),
        minimal_definition("t:b", rerouteRules=[rule("context-exceeded", "t:a")]),
    )

    result = run("validate")

    # validate cannot see whether the registry already holds it: plan decides.
    assert result.exit_code == 0
    assert result.stderr == (
        "models/t-a.yaml:19: rerouteRules[0].targetModelId: warning: reroute cycle: t:a "
        "(models/t-a.yaml:19) -> t:b (models/t-b.yaml:19) -> t:a; a request could loop "
        "between these models: remove or retarget one of these rules; plan decides, "
        "against the registry\n"
    )
    strict = run("validate", "--strict")
    assert strict.exit_code == 1
    assert "error: models are invalid: 1 problem found" in strict.stderr


def test_validate_warns_of_a_target_no_file_declares(repo: Path) -> None:
    write_models(repo, minimal_definition("t:a", rerouteRules=[rule("error-fallback", "t:gone")]))

    result = run("validate")

    assert result.exit_code == 0
    assert result.stderr == (
        "models/t-a.yaml:19: rerouteRules[0].targetModelId: warning: no model 't:gone' in models/ "
        "(the registry may have it); plan decides, against the registry\n"
    )


def test_validate_reports_a_self_reroute(repo: Path) -> None:
    write_models(repo, minimal_definition("t:a", rerouteRules=[rule("error-fallback", "t:a")]))

    result = run("validate")

    assert result.exit_code == 1
    assert "models/t-a.yaml:19: rerouteRules[0].targetModelId: reroutes to its own id" in (
        result.stderr
    )


def test_plan_finds_a_cycle_through_a_live_entry(server: RegistryServer, repo: Path) -> None:
    write_models(
        repo, minimal_definition("t:backup", rerouteRules=[rule("error-fallback", "t:chat")])
    )

    result = plan(server)

    assert result.exit_code == 1
    assert (
        "reroute cycle: t:backup (models/t-backup.yaml:19) -> t:chat (in the registry) -> t:backup"
    ) in result.stderr
    # validate sees the files alone, where there is no cycle.
    assert run("validate").exit_code == 0


def test_unsuitable_reroute_targets_are_warnings(server: RegistryServer, repo: Path) -> None:
    write_models(
        repo,
        minimal_definition(
            "t:wide",
            contextWindow=200000,
            rerouteRules=[
                rule("context-exceeded", "t:narrow"),
                rule("input-modality:image", "t:narrow"),
            ],
        ),
        minimal_definition("t:narrow", contextWindow=100000),
    )

    validated = run("validate")
    planned = plan(server)

    warnings = [
        "models/t-wide.yaml:20: rerouteRules[0].targetModelId: warning: context-exceeded "
        "reroute from t:wide to t:narrow (models/t-narrow.yaml:1): the target's contextWindow "
        "(100000) is not larger than this model's (200000), so a request too long here is too "
        "long there too",
        "models/t-wide.yaml:24: rerouteRules[1].targetModelId: warning: input-modality:image "
        "reroute from t:wide to t:narrow (models/t-narrow.yaml:1): the target does not take "
        "image input (its input: text)",
    ]
    for result in (validated, planned):
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines()[:2] == warnings


def test_a_live_target_lacking_the_modality_is_a_warning_at_plan(
    server: RegistryServer, repo: Path
) -> None:
    write_models(
        repo, minimal_definition("t:new", rerouteRules=[rule("input-modality:audio", "t:big")])
    )

    result = plan(server)

    assert result.exit_code == 0, result.output
    assert (
        "input-modality:audio reroute from t:new to t:big (in the registry): the target does "
        "not take audio input (its input: text)"
    ) in result.stderr


# --- registry-sync graph ------------------------------------------------------------------


def test_graph_prints_the_models_over_the_registry(server: RegistryServer, repo: Path) -> None:
    write_models(
        repo, minimal_definition("t:new", rerouteRules=[rule("context-exceeded", "t:big")])
    )

    mermaid = run("graph", "--api-url", server.url)
    dot = run("graph", "--api-url", server.url, "--format", "dot")
    files = run("graph", "--files-only", "--format", "dot")

    assert mermaid.exit_code == 0, mermaid.output
    assert mermaid.stdout == (
        "flowchart LR\n"
        '  n0["t:backup"]\n'
        '  n1["t:big"]\n'
        '  n2["t:chat"]\n'
        '  n3["t:new"]\n'
        '  n2 -->|"error-fallback"| n0\n'
        '  n3 -->|"context-exceeded"| n1\n'
    )
    assert dot.stdout == (
        "digraph reroutes {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        '  "t:backup";\n'
        '  "t:big";\n'
        '  "t:chat";\n'
        '  "t:new";\n'
        '  "t:chat" -> "t:backup" [label="error-fallback"];\n'
        '  "t:new" -> "t:big" [label="context-exceeded"];\n'
        "}\n"
    )
    assert files.exit_code == 0, files.output
    assert '"t:chat"' not in files.stdout
    assert '  "t:new" -> "t:big" [label="context-exceeded"];\n' in files.stdout


# --- registry-sync.yaml -------------------------------------------------------------------


def test_policy_keys_are_read(repo: Path) -> None:
    path = repo / "registry-sync.yaml"
    path.write_text(
        "freeze: ['legacy:*']\nmax_deletes: 3\npolicy:\n  destructive: deny\n  breaking: warn\n",
        "utf-8",
    )

    config = load_config(path)

    assert (config.freeze, config.max_deletes, config.deny) == (
        ("legacy:*",),
        3,
        frozenset({"destructive"}),
    )


def test_policy_keys_are_checked(repo: Path) -> None:
    path = repo / "registry-sync.yaml"
    path.write_text(
        "freeze: x\nmax_deletes: -1\npolicy:\n  destructive: block\n  braking: deny\n", "utf-8"
    )

    with pytest.raises(InvalidConfig) as caught:
        load_config(path)

    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:1: freeze: expected a list of strings, got a string",
        "registry-sync.yaml:2: max_deletes: expected a count (0 or more), got a number",
        "registry-sync.yaml:4: policy.destructive: expected warn or deny",
        "registry-sync.yaml:5: policy.braking: unknown key; did you mean 'breaking'?",
    ]
    path.write_text("policy: deny\nmax_deletes: true\n", "utf-8")
    with pytest.raises(InvalidConfig) as caught:
        load_config(path)
    assert [str(problem) for problem in caught.value.problems] == [
        "registry-sync.yaml:1: policy: expected a mapping such as {destructive: deny}, got a "
        "string",
        "registry-sync.yaml:2: max_deletes: expected a count (0 or more), got a boolean",
    ]
