"""Risk labels kept in step with a pull request's plan, and approvals before apply
(opt-in, issue 25), end to end with the fake GitHub and the local registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_github import FakeGitHub
from github_actions import (
    CHAT_ID,
    EMBED_ID,
    HEAD_SHA,
    MERGE_SHA,
    PR_NUMBER,
    Actions,
    Run,
    edit_model,
)

from registry_sync.testing import RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]

DESTRUCTIVE = "registry-sync:destructive"
BREAKING = "registry-sync:breaking"


def label_calls(github: FakeGitHub) -> list[tuple[str, str]]:
    return [(method, target) for method, target in github.requests if "/labels" in target]


def test_risk_labels_follow_the_plan_on_every_push(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.labels[PR_NUMBER] = ["needs-docs"]
    (models / "2.yaml").unlink()  # the embeddings entry, pruned: destructive
    edit_model(models, CHAT_ID, rpm=300)  # a lower rate limit: breaking
    run = actions.run(models, inputs={"prune": "true"})
    assert run.code == 0, run.log
    assert github.labels[PR_NUMBER] == ["needs-docs", BREAKING, DESTRUCTIVE]

    # The next push deletes nothing: the destructive label goes, the other stays.
    github.requests.clear()
    run = actions.run(models)
    assert run.code == 0, run.log
    assert github.labels[PR_NUMBER] == ["needs-docs", BREAKING]
    assert label_calls(github) == [
        ("DELETE", f"/repos/acme/models/issues/{PR_NUMBER}/labels/{DESTRUCTIVE}")
    ]

    # Nothing to change: no call at all.
    github.requests.clear()
    assert actions.run(models).code == 0
    assert label_calls(github) == []

    edit_model(models, CHAT_ID, rpm=600)
    assert actions.run(models).code == 0
    assert github.labels[PR_NUMBER] == ["needs-docs"]


def test_a_label_that_cannot_be_written_is_a_warning(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, CHAT_ID, rpm=300)
    github.read_only = True
    run = actions.run(models)
    assert run.code == 0, run.log
    assert "keeping the risk labels in step failed; the result above stands" in run.log


# -- approvals -------------------------------------------------------------------------


def merged(actions: Actions, models: Path) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    actions.run_id = "42"
    assert actions.run(models).code == 0
    actions.github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)


def apply(actions: Actions, models: Path, run_id: str) -> Run:
    actions.run_id = run_id
    inputs = {"plan_workflow": "registry-plan.yml", "require_approval": "true"}
    return actions.run(models, event_name="push", mode="apply", inputs=inputs)


def live(registry: RegistryServer, model_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = registry.entries()[model_id]["definition"]
    return definition


def test_with_approvals_required_an_unapproved_merge_applies_nothing_and_says_why(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    merged(actions, models)
    github.review(PR_NUMBER, github.author, "APPROVED", HEAD_SHA)  # the author's own
    github.review(PR_NUMBER, "reviewer", "APPROVED", "9" * 40)  # an earlier commit
    github.review(PR_NUMBER, "second", "APPROVED", HEAD_SHA)
    github.review(PR_NUMBER, "second", "CHANGES_REQUESTED", HEAD_SHA)  # withdrawn
    github.review(PR_NUMBER, "third", "COMMENTED", HEAD_SHA)
    registry.clear_requests()

    run = apply(actions, models, "50")

    assert run.code == 1
    assert [r.method for r in registry.requests() if r.method != "GET"] == []
    assert live(registry, CHAT_ID)["contextWindow"] == 32768
    assert (
        f"#{PR_NUMBER} needs an approving review of its last commit {HEAD_SHA[:7]} by "
        f"someone other than its author (octo-dev) before it is applied (require-approval), "
        "and has none"
    ) in run.summary
    reply = github.comments[PR_NUMBER][-1]["body"]
    assert "registry-sync apply refused" in reply


def test_with_approvals_required_an_approved_merge_applies(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    merged(actions, models)
    github.review(PR_NUMBER, "reviewer", "CHANGES_REQUESTED", HEAD_SHA)
    github.review(PR_NUMBER, "reviewer", "APPROVED", HEAD_SHA)
    run = apply(actions, models, "50")
    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert live(registry, EMBED_ID).get("displayName") is None
