"""Every merged pull request gets applied, whatever GitHub cancels (issue 25): an
apply run applies every pull request merged since the last successful apply, each
against its own reviewed plan, in merge order, each told its result. A git checkout
in tmp_path holds the real merge commits (older ones are planned in a worktree);
the fake GitHub knows the runs, the branch's history and the merged pull requests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_github import BOT, FakeGitHub
from github_actions import (
    APPLY_WORKFLOW,
    CHAT_ID,
    EMBED_ID,
    ROUTER_ID,
    Actions,
    Run,
    edit_model,
    git,
)

from registry_sync.github.review import read_marker
from registry_sync.testing import RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]

Change = Callable[[Path], None]


def chat_window(root: Path) -> None:
    edit_model(root / "models", CHAT_ID, contextWindow=65536)


def embed_name(root: Path) -> None:
    edit_model(root / "models", EMBED_ID, displayName="Embeddings")


def chat_name(root: Path) -> None:
    edit_model(root / "models", CHAT_ID, displayName="Chat")


def router_shown(root: Path) -> None:
    edit_model(root / "models", ROUTER_ID, hidden=False)


class Branch:
    """The main branch of a git checkout in tmp_path, its pull requests and merges,
    mirrored into the fake GitHub (history, merged pull requests, runs)."""

    def __init__(self, actions: Actions, registry: RegistryServer) -> None:
        self.actions = actions
        self.root = actions.tmp_path
        self.github = actions.github
        (self.root / "registry-sync.yaml").write_text(
            f"models_dir: models\napi_url: {registry.url}\n", encoding="utf-8"
        )
        git(self.root, "init", "-q", "-b", "main")
        git(self.root, "add", "registry-sync.yaml", "models")
        git(self.root, "commit", "-q", "-m", "base")
        self.base = git(self.root, "rev-parse", "HEAD")
        self.github.history.append(self.base)
        # The last successful apply run was of the base commit.
        self.github.start_run("10", "push", self.base, APPLY_WORKFLOW)
        self.github.finish_run("10", True)
        self.heads: dict[int, str] = {}
        self.runs = 40

    def open(self, number: int, change: Change, onto: str) -> str:
        """Pull request ``number`` makes ``change`` on a branch of ``onto``; its plan
        run plans GitHub's merge of it with ``onto``. Returns its head commit."""
        git(self.root, "checkout", "-q", "-b", f"pr-{number}", onto)
        change(self.root)
        git(self.root, "commit", "-q", "-am", f"pull request {number}")
        head = git(self.root, "rev-parse", "HEAD")
        self.heads[number] = head
        git(self.root, "checkout", "-q", "--detach", onto)
        git(self.root, "merge", "-q", "--no-ff", "-m", "test merge", f"pr-{number}")
        self.runs += 1
        self.actions.run_id = str(self.runs)
        run = self.actions.run(None, head_sha=head, number=number)
        assert run.code == 0, run.log
        return head

    def merge(self, number: int) -> str:
        """Merge pull request ``number`` into main; returns the merge commit."""
        git(self.root, "checkout", "-q", "main")
        git(self.root, "merge", "-q", "--no-ff", "-m", f"merge #{number}", f"pr-{number}")
        sha = git(self.root, "rev-parse", "HEAD")
        self.github.merge(sha, number, self.heads[number])
        self.github.history.append(sha)
        return sha

    def apply(self, run_id: str) -> Run:
        """The apply run of main's last commit, checked out as actions/checkout does."""
        sha = git(self.root, "rev-parse", "main")
        git(self.root, "checkout", "-q", "--detach", sha)
        self.actions.run_id = run_id
        inputs = {"plan_workflow": "registry-plan.yml"}
        return self.actions.run(None, event_name="push", mode="apply", inputs=inputs, sha=sha)


@pytest.fixture
def branch(actions: Actions, registry: RegistryServer, models: Path) -> Branch:
    return Branch(actions, registry)


def replies(github: FakeGitHub, number: int) -> list[dict[str, Any]]:
    return [
        data
        for comment in github.comments.get(number, [])
        if comment["user"]["login"] == BOT and (data := read_marker(comment["body"], "apply"))
    ]


def live(registry: RegistryServer, model_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = registry.entries()[model_id]["definition"]
    return definition


def test_of_three_merges_whose_apply_runs_were_cancelled_but_the_last_it_applies_all(
    branch: Branch, github: FakeGitHub, registry: RegistryServer
) -> None:
    merges = []
    for number, change in ((7, chat_window), (8, embed_name), (9, router_shown)):
        # Up-to-date branches: each is planned on main as it is when it merges, the
        # earlier merges not yet applied (their writes are in its plan too, so what
        # is left once they are applied is part of it).
        branch.open(number, change, "main")
        merges.append(branch.merge(number))
    # GitHub cancelled the pending apply runs of the first two merges.

    run = branch.apply("60")

    assert run.code == 0, run.log
    assert run.outputs["result"] == "complete"
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert live(registry, EMBED_ID)["displayName"] == "Embeddings"
    assert live(registry, ROUTER_ID)["hidden"] is False
    for number, sha in zip((7, 8, 9), merges, strict=True):
        (reply,) = replies(github, number)
        assert reply["commit"] == sha
        assert reply["result"] == "complete"
    assert [line for line in run.summary.splitlines() if line.startswith("### ")] == [
        f"### ✅ registry-sync applied: `models/` → `{registry.url}`"
    ] * 3

    # A later run (a re-run, the next merge's) applies nothing twice.
    registry.clear_requests()
    again = branch.apply("61")
    assert again.code == 0, again.log
    assert [r.method for r in registry.requests() if r.method != "GET"] == []
    assert all(len(replies(github, number)) == 1 for number in (7, 8, 9))
    assert "#9 was applied already or refused (told: complete): passed over." in again.log


def test_a_merge_queue_group_of_two_applies_both_and_tells_both(
    branch: Branch, github: FakeGitHub, registry: RegistryServer
) -> None:
    # Both planned on the same main; the queue lands them as one push of two merges.
    branch.open(7, chat_window, branch.base)
    branch.open(8, embed_name, branch.base)
    first, second = branch.merge(7), branch.merge(8)

    run = branch.apply("60")

    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert live(registry, EMBED_ID)["displayName"] == "Embeddings"
    assert [r["commit"] for n in (7, 8) for r in replies(github, n)] == [first, second]


def test_a_refused_merge_is_told_and_the_others_still_get_theirs(
    branch: Branch, github: FakeGitHub, registry: RegistryServer
) -> None:
    branch.open(7, chat_window, "main")
    branch.merge(7)
    # Planned on the base, merged after #7 changed the same entry: not what was reviewed.
    branch.open(8, chat_name, branch.base)
    branch.merge(8)
    branch.open(9, embed_name, "main")
    branch.merge(9)

    run = branch.apply("60")

    assert run.code == 1
    assert run.outputs["result"] == "refused"
    assert [r["result"] for n in (7, 8, 9) for r in replies(github, n)] == [
        "complete",
        "refused",
        "refused",
    ]
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert live(registry, CHAT_ID)["displayName"] == "My custom chat v1"


def test_commits_that_cannot_be_planned_say_how_to_fetch_them(
    branch: Branch, github: FakeGitHub, registry: RegistryServer
) -> None:
    branch.open(7, chat_window, "main")
    branch.merge(7)
    branch.open(8, embed_name, "main")
    branch.merge(8)
    github.history.insert(1, "0" * 40)  # a commit the shallow checkout does not have
    github.merge("0" * 40, 6, "1" * 40)

    run = branch.apply("60")

    assert run.code == 1
    assert "check out with actions/checkout and fetch-depth: 0" in run.summary
    assert [r["result"] for r in replies(github, 6)] == ["refused"]
