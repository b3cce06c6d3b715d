"""Issue 21, item 4 (and item 2 end to end): a saved plan applies without asking,
applies once ("already applied" after), is refused when partly landed, and `show`
prints it offline exactly as `plan` did; an auth change is breaking in every format.
The CLI against the local registry over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.live.client import RegistryClient
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-saved-plans-e2e-7c21d4"
INLINE = "sk-inline-upstream-3e9f0a"  # the live entry's inline key: never printed
CHAT = "team:chat"
KEYED = "team:keyed"
NEW = "team:new"
OLD = "team:old"


def definition(model_id: str, **fields: Any) -> dict[str, Any]:
    upstream = {"modelId": model_id.split(":", 1)[1], "auth": {"type": "api-key", "envVar": "K"}}
    return minimal_definition(model_id, **{**upstream, **fields})


LIVE = (
    definition(CHAT, contextWindow=8192),
    definition(KEYED, auth={"type": "api-key", "value": INLINE}),
    definition(OLD),
)
# CHAT raised (safe), KEYED's inline key replaced by a variable (breaking), NEW created
# rerouting to CHAT (a reroute rule in the plan's picture), OLD undeclared.
FILES = (
    definition(CHAT, contextWindow=16384),
    definition(KEYED, auth={"type": "api-key", "envVar": "KEYED_KEY"}),
    definition(NEW, rerouteRules=[{"trigger": {"type": "error-fallback"}, "targetModelId": CHAT}]),
)


class Workspace:
    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        (root / "models").mkdir()
        for body in FILES:
            name = body["id"].replace(":", "-") + ".yaml"
            (root / "models" / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            cli,
            list(args),
            input=input,
            env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None},
        )

    def plan(self, *args: str) -> Result:
        return self.run("plan", "--api-url", self.server.url, *args)

    def apply(self, *args: str, input: str | None = None) -> Result:
        return self.run("apply", "--api-url", self.server.url, *args, input=input)

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.raw_path) for r in self.server.requests() if r.method != "GET"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    seed = list_response(registry_model(body) for body in LIVE)
    with RegistryServer(seed=seed, api_key=KEY) as server:
        yield Workspace(tmp_path, server)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("registry_sync.cli.commands.apply._stdin_is_terminal", lambda: True)


ENV_VAR = (
    "auth.envVar added: the server reads the key from another environment variable, which "
    "its operators must set before apply"
)
VALUE = (
    "auth.value removed: the registry's inline key (sensitive) is deleted; calls fail unless "
    "the server has the key another way"
)


# -- an auth change is breaking -----------------------------------------------------------


def test_an_auth_change_is_breaking_in_every_format_and_names_no_secret(
    workspace: Workspace,
) -> None:
    text = workspace.plan("--detailed-exitcode")
    document = json.loads(workspace.plan("--format", "json").stdout)
    markdown = workspace.plan("--format", "markdown").stdout

    assert text.exit_code == 2, text.output
    assert f"~ {KEYED} will be updated in place [breaking]" in text.stdout
    assert f"      ! {ENV_VAR}\n      ! {VALUE}\n" in text.stdout
    assert "Risk: 0 destructive, 1 breaking." in text.stdout
    keyed = next(action for action in document["actions"] if action["id"] == KEYED)
    assert (keyed["risk"], keyed["risk_reasons"]) == ("breaking", [ENV_VAR, VALUE])
    chat = next(action for action in document["actions"] if action["id"] == CHAT)
    assert (chat["risk"], chat["risk_reasons"]) == ("safe", [])
    assert f"🟡 **breaking, update** `{KEYED}` (`models/team-keyed.yaml:1`): {ENV_VAR}; " in (
        markdown
    )
    for output in (text.stdout, json.dumps(document), markdown):
        assert INLINE not in output


# -- apply PLAN_FILE ------------------------------------------------------------------------


def test_a_saved_plan_applies_without_a_terminal_and_a_second_apply_says_already_applied(
    workspace: Workspace,
) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0

    first = workspace.apply("plan.json")  # CliRunner's stdin is no terminal

    assert first.exit_code == 0, first.output
    assert "Apply these changes?" not in first.stdout
    assert "Apply complete: 1 created, 2 updated, 0 replaced, 0 deleted." in first.stdout
    workspace.server.clear_requests()

    second = workspace.apply("plan.json")

    assert second.exit_code == 0, second.output
    assert second.stdout.endswith(
        "\nAlready applied: nothing to do. The registry already holds every write of this plan.\n"
    )
    assert "changed since the plan was made" not in second.output
    assert workspace.writes() == []
    as_json = workspace.apply("plan.json", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    result = json.loads(as_json.stdout)
    assert (result["outcome"], result["already_applied"], result["entries"]) == (
        "no-changes",
        True,
        [],
    )
    assert workspace.plan("--detailed-exitcode").exit_code == 0


def test_a_fresh_apply_still_needs_a_terminal_or_auto_approve(workspace: Workspace) -> None:
    result = workspace.apply("--prune", input="yes\n")

    assert result.exit_code == 1
    assert "no terminal to ask for approval" in result.stderr
    assert "apply a reviewed saved plan" in result.stderr
    assert workspace.writes() == []


@pytest.mark.usefixtures("terminal")
def test_interactive_asks_before_applying_a_saved_plan(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0

    cancelled = workspace.apply("plan.json", "--interactive", input="y\n")

    assert cancelled.exit_code == 1
    assert "Apply these changes? Only 'yes' will be accepted: y\n" in cancelled.stdout
    assert "Apply cancelled: nothing was written." in cancelled.stderr
    assert workspace.writes() == []

    approved = workspace.apply("plan.json", "--interactive", input="yes\n")

    assert approved.exit_code == 0, approved.output
    assert "Apply these changes? Only 'yes' will be accepted: yes\n" in approved.stdout
    assert "Apply complete: 1 created, 2 updated" in approved.stdout


def test_interactive_without_a_terminal_is_refused(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0

    result = workspace.apply("plan.json", "--interactive", input="yes\n")

    assert result.exit_code == 1
    assert "no terminal to ask for approval" in result.stderr
    assert workspace.writes() == []


def test_interactive_and_auto_approve_do_not_go_together(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0

    result = workspace.apply("plan.json", "--interactive", "--auto-approve")

    assert result.exit_code == 1
    assert "error: --interactive asks, --auto-approve does not: drop one of them" in result.stderr
    assert workspace.writes() == []


def test_a_partly_landed_plan_is_refused_naming_what_is_left(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    # One write of the plan lands by other means (an earlier run cut short, a colleague).
    with RegistryClient(workspace.server.url, KEY, api="registry") as other:
        other.update_model(CHAT, {"contextWindow": 16384})
    workspace.server.clear_requests()

    result = workspace.apply("plan.json")

    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "error: apply refused; nothing was written:\n"
        f"  {KEYED}: not updated yet\n"
        f"  {NEW}: not created yet\n"
        f"  already as planned: {CHAT}\n"
        "The plan was partly applied (1 of 3 writes hold): run `registry-sync plan` again, "
        "review what is left, and apply the new plan.\n"
    )
    assert workspace.writes() == []


def test_a_plan_landed_differently_is_still_stale(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    with RegistryClient(workspace.server.url, KEY, api="registry") as other:
        other.update_model(CHAT, {"contextWindow": 4096})

    result = workspace.apply("plan.json")

    assert result.exit_code == 1
    assert f"  {CHAT}: changed since the plan was made\n" in result.stderr
    assert "already as planned" not in result.stderr


# -- show PLAN_FILE ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "view",
    [
        ("--format", "text"),
        ("--format", "text", "--compact"),
        ("--format", "text", "--color"),
        ("--format", "json"),
        ("--format", "markdown"),
    ],
    ids=["text", "compact", "color", "json", "markdown"],
)
@pytest.mark.parametrize(
    "planning",
    [(), ("--prune", "--max-deletes", "0"), ("--target", "team:k*")],
    ids=["plan", "violation", "partial"],
)
def test_show_prints_what_plan_printed(
    workspace: Workspace, view: tuple[str, ...], planning: tuple[str, ...]
) -> None:
    planned = workspace.plan(*planning, *view, "--out", "plan.json")
    assert planned.exit_code in (0, 1), planned.output

    # Offline: no registry (the server is not asked), no key, no models/.
    workspace.server.clear_requests()
    (workspace.root / "models" / "team-chat.yaml").unlink()
    shown = CliRunner().invoke(cli, ["show", "plan.json", *view], env={"MKA1_API_KEY": None})

    assert shown.exit_code == 0, shown.output
    assert shown.stdout == planned.stdout
    assert shown.stderr == ""
    assert workspace.server.requests() == []


def test_show_markdown_equals_plan_markdown_with_its_judgement(workspace: Workspace) -> None:
    planned = workspace.plan("--prune", "--max-deletes", "0", "--format", "markdown")
    assert workspace.plan("--prune", "--max-deletes", "0", "--out", "plan.json").exit_code == 1

    shown = workspace.run("show", "plan.json", "--format", "markdown")

    assert shown.stdout == planned.stdout
    assert "⛔ **max-deletes**" in shown.stdout
    assert f"🟡 **breaking, update** `{KEYED}`" in shown.stdout
    assert "flowchart LR" in shown.stdout  # the reroute rule NEW adds


def test_show_notes_a_saved_risk_this_version_classes_otherwise(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    saved = workspace.root / "plan.json"
    document = json.loads(saved.read_text("utf-8"))
    keyed = next(action for action in document["actions"] if action["id"] == KEYED)
    keyed["risk"], keyed["risk_reasons"] = "safe", []
    document["summary"]["risk"] = {"safe": 3, "breaking": 0, "destructive": 0}
    saved.write_text(json.dumps(document), "utf-8")

    shown = workspace.run("show", "plan.json")

    assert shown.exit_code == 0, shown.output
    assert "[breaking]" not in shown.stdout  # shown as saved
    assert shown.stderr == (
        f"note: {KEYED}: saved as safe, but this registry-sync classes it breaking; "
        f"{ENV_VAR}; {VALUE}: apply judges it so\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "error: plan file plan.json is corrupt: not valid JSON at line 1"),
        (b"[]", "error: plan file plan.json is not a registry-sync plan"),
        (None, "error: plan file plan.json does not exist"),
    ],
    ids=["not-json", "not-a-plan", "missing"],
)
def test_show_of_an_unusable_file_exits_1_naming_it(
    workspace: Workspace, content: bytes | None, message: str
) -> None:
    if content is not None:
        (workspace.root / "plan.json").write_bytes(content)

    result = workspace.run("show", "plan.json")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message)


def test_show_refuses_a_saved_judgement_that_does_not_add_up(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    saved = workspace.root / "plan.json"
    document = json.loads(saved.read_text("utf-8"))
    document["summary"]["risk"]["breaking"] = 0
    saved.write_text(json.dumps(document), "utf-8")

    result = workspace.run("show", "plan.json")

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: plan file plan.json is corrupt: summary.risk: does not match the actions; "
    )


# -- help -------------------------------------------------------------------------------------


def test_help_texts_say_how_saved_plans_are_approved_and_shown() -> None:
    runner = CliRunner()
    show = runner.invoke(cli, ["show", "--help"])
    apply = runner.invoke(cli, ["apply", "--help"])
    top = runner.invoke(cli, ["--help"])

    assert show.exit_code == apply.exit_code == top.exit_code == 0
    assert "Usage: cli show [OPTIONS] PLAN_FILE" in show.stdout
    assert "[text|json|markdown]" in show.stdout
    assert "No network access" in show.stdout
    assert "--compact" in show.stdout and "--color / --no-color" in show.stdout
    assert "--interactive" in apply.stdout
    assert "saved plan is applied without asking" in " ".join(apply.stdout.split())
    assert "show " in top.stdout


# -- apply PLAN_FILE --dry-run: the checks apply runs, and its exit code ------------------------


def test_dry_run_of_a_stale_plan_exits_1_as_apply_does(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    with RegistryClient(workspace.server.url, KEY, api="registry") as other:
        other.update_model(CHAT, {"contextWindow": 4096})
    workspace.server.clear_requests()

    dry = workspace.apply("plan.json", "--dry-run")
    real = workspace.apply("plan.json")

    assert (dry.exit_code, real.exit_code) == (1, 1)
    assert f"  {CHAT}: changed since the plan was made\n" in dry.stderr
    assert dry.stderr == real.stderr
    assert "Nothing was written (--dry-run)." not in dry.stdout
    assert workspace.writes() == []


def test_dry_run_of_a_plan_whose_patch_gained_a_field_exits_1(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    saved = json.loads(Path("plan.json").read_text("utf-8"))
    (change,) = [c for c in saved["actions"] if c["id"] == CHAT]
    change["patch"]["maxRetries"] = 9  # edited after review: the plan does not show it
    Path("plan.json").write_text(json.dumps(saved), "utf-8")

    dry = workspace.apply("plan.json", "--dry-run")
    real = workspace.apply("plan.json")

    assert (dry.exit_code, real.exit_code) == (1, 1), dry.output
    assert dry.stderr == real.stderr
    assert "error: apply refused; nothing was written:" in dry.stderr
    assert workspace.writes() == []


def test_dry_run_of_an_applied_plan_says_so_and_exits_0(workspace: Workspace) -> None:
    assert workspace.plan("--out", "plan.json").exit_code == 0
    assert workspace.apply("plan.json").exit_code == 0
    workspace.server.clear_requests()

    result = workspace.apply("plan.json", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "Dry run: already applied: the registry already holds every write of this plan, "
        "so apply would send nothing.\n"
    )
    assert workspace.writes() == []
