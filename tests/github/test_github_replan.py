"""The way out when main moved (issue 25): ``/registry-sync plan`` on a merged pull
request whose apply was refused is answered by a fresh plan of the main branch,
posted on the pull request, and applied only by the apply job that someone approves
afterwards (the environment's approval); never silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_github import FakeGitHub
from github_actions import (
    CHAT_ID,
    HEAD_SHA,
    MERGE_SHA,
    PR_NUMBER,
    Actions,
    Run,
    edit_model,
)

from registry_sync.github.review import read_marker
from registry_sync.testing import RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]

REPLAN_WORKFLOW = ".github/workflows/registry-replan.yml"


def refused_merge(actions: Actions, github: FakeGitHub, models: Path) -> None:
    """#7 reviewed and merged, its apply refused: its plan's artifact expired."""
    edit_model(models, CHAT_ID, contextWindow=65536)
    actions.run_id = "42"
    assert actions.run(models).code == 0
    github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    github.expire("42")
    actions.run_id = "50"
    inputs = {"plan_workflow": "registry-plan.yml"}
    refused = actions.run(models, event_name="push", mode="apply", inputs=inputs)
    assert refused.code == 1


def command_run(actions: Actions, models: Path, mode: str, **given: Any) -> Run:
    """A job of run 70, started by a comment on #7."""
    actions.run_id = "70"
    actions.workflow = REPLAN_WORKFLOW
    given.setdefault("comment", "/registry-sync plan")
    return actions.run(models, event_name="issue_comment", mode=mode, **given)


def replans(github: FakeGitHub) -> list[dict[str, Any]]:
    return [
        c
        for c in github.comments.get(PR_NUMBER, [])
        if "replan" in (read_marker(c["body"], "plan") or {})
    ]


def live(registry: RegistryServer, model_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = registry.entries()[model_id]["definition"]
    return definition


def test_the_way_out_applies_a_fresh_plan_only_after_the_explicit_approval(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    refused_merge(actions, github, models)
    github.permissions["maintainer"] = "write"
    registry.clear_requests()

    plan_job = command_run(actions, models, "")

    assert plan_job.code == 0, plan_job.log
    assert plan_job.outputs["has-changes"] == "true"
    (fresh,) = replans(github)
    assert "1 to update" in fresh["body"]
    assert "`contextWindow` | `32768` | `65536`" in fresh["body"]
    assert "as maintainer asked (/registry-sync plan)" in fresh["body"]
    assert "applied only when the apply job of this run is approved" in fresh["body"]
    # Shown, not applied: the apply job waits for the environment's approval.
    assert [r.method for r in registry.requests() if r.method != "GET"] == []
    assert live(registry, CHAT_ID)["contextWindow"] == 32768

    apply_job = command_run(actions, models, "apply")  # approved

    assert apply_job.code == 0, apply_job.log
    assert apply_job.outputs["result"] == "complete"
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    reply = github.comments[PR_NUMBER][-1]
    assert read_marker(reply["body"], "apply") == {
        "project": f"models/ → {registry.url}",
        "commit": MERGE_SHA,
        "result": "complete",
    }


def test_an_edited_re_plan_is_not_applied(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    refused_merge(actions, github, models)
    github.permissions["maintainer"] = "admin"
    assert command_run(actions, models, "").code == 0
    (fresh,) = replans(github)
    github.edit(fresh, fresh["body"].replace("1 to update", "0 to update"))
    run = command_run(actions, models, "apply")
    assert run.code == 1
    assert "was edited at" in run.summary
    assert live(registry, CHAT_ID)["contextWindow"] == 32768


def test_only_someone_with_write_access_gets_a_re_plan(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    refused_merge(actions, github, models)
    github.permissions["visitor"] = "read"
    run = command_run(actions, models, "", commenter="visitor")
    assert run.code == 1
    assert "visitor has read access; /registry-sync plan needs someone with write access" in (
        run.summary
    )
    assert replans(github) == []
    assert github.comments[PR_NUMBER][-1]["body"].startswith("### ❌ Not re-planned")
    # The apply job of that run finds nothing to apply.
    run = command_run(actions, models, "apply", commenter="visitor")
    assert run.code == 1
    assert "shows no re-plan of models/" in run.summary
    assert live(registry, CHAT_ID)["contextWindow"] == 32768


def test_other_comments_are_no_command(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    run = command_run(actions, models, "", comment="LGTM, /registry-sync plan later")
    assert run.code == 0
    assert run.outputs["result"] == "skipped"
    assert github.requests == []
    assert registry.requests() == []
