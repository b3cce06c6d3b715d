"""``pull_request_target``, opted in, end to end: a git checkout in tmp_path (the base
branch, a fork's head and GitHub's merge of the two), the fake GitHub serving the base
branch's registry-sync.yaml and the pull request's merge commit, the local registry,
and a second registry standing for an address a pull request would like the key sent
to. The key goes only where the base branch says, and only the merge is planned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub
from github_actions import (
    CHAT_ID,
    PR_NUMBER,
    Actions,
    Run,
    edit_model,
    git,
)

from registry_sync.github.review import read_marker
from registry_sync.testing import RegistryServer

FORK = "mallory/models"

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]


@pytest.fixture
def elsewhere(registry_seed: dict[str, Any]) -> Iterator[RegistryServer]:
    """The registry a pull request names in its own registry-sync.yaml."""
    with RegistryServer(seed=registry_seed, api_key="not-the-key") as server:
        yield server


class Repository:
    """The base branch, the pull request's head and their merge, as commits."""

    def __init__(self, root: Path, github: FakeGitHub) -> None:
        self.root = root
        self.github = github
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "registry-sync.yaml", "models")
        git(root, "commit", "-q", "-m", "base")
        self.base = git(root, "rev-parse", "HEAD")
        # The base branch's file, as the contents API serves it.
        self.config = (root / "registry-sync.yaml").read_text(encoding="utf-8")
        github.files[(self.base, "registry-sync.yaml")] = self.config
        self.head = self.merge = ""

    def pull_request(self, change: Any) -> None:
        """A fork's branch making ``change`` to the tree; GitHub merges it with main."""
        git(self.root, "checkout", "-q", "-b", "fork")
        change(self.root)
        git(self.root, "commit", "-q", "-am", "change")
        self.head = git(self.root, "rev-parse", "HEAD")
        git(self.root, "checkout", "-q", "main")
        git(self.root, "commit", "-q", "--allow-empty", "-m", "main moves on")
        self.base = git(self.root, "rev-parse", "HEAD")
        self.github.files[(self.base, "registry-sync.yaml")] = self.config
        git(self.root, "checkout", "-q", "--detach", "main")
        git(self.root, "merge", "-q", "--no-ff", "-m", "merge", "fork")
        self.merge = git(self.root, "rev-parse", "HEAD")
        self.github.open_pull(PR_NUMBER, self.head, self.merge)

    def checkout(self, sha: str) -> None:
        git(self.root, "checkout", "-q", "--detach", sha)


@pytest.fixture
def repository(
    tmp_path: Path, github: FakeGitHub, registry: RegistryServer, models: Path
) -> Repository:
    (tmp_path / "registry-sync.yaml").write_text(
        f"models_dir: models\napi_url: {registry.url}\n", encoding="utf-8"
    )
    return Repository(tmp_path, github)


def target_run(actions: Actions, repository: Repository) -> Run:
    return actions.run(
        None,
        event_name="pull_request_target",
        inputs={"allow_pull_request_target": "true"},
        head=FORK,
        head_sha=repository.head,
        sha=repository.base,
    )


def comment(github: FakeGitHub) -> str:
    (found,) = [c for c in github.comments.get(PR_NUMBER, []) if read_marker(c["body"], "plan")]
    body: str = found["body"]
    return body


def change_model(root: Path) -> None:
    edit_model(root / "models", CHAT_ID, contextWindow=65536)


def test_the_merge_of_a_fork_is_planned_with_the_base_branchs_settings(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, repository: Repository
) -> None:
    repository.pull_request(change_model)
    repository.checkout(repository.merge)
    run = target_run(actions, repository)
    assert run.code == 0, run.log
    assert run.outputs["result"] == "changes"
    # A fork's pull request under pull_request_target holds a write token: commented.
    assert "1 to update" in comment(github)
    assert "`contextWindow` | `32768` | `65536`" in comment(github)


def test_the_merge_of_a_plan_made_on_pull_request_target_applies(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, repository: Repository
) -> None:
    repository.pull_request(change_model)
    repository.checkout(repository.merge)
    assert target_run(actions, repository).code == 0
    # The run's head is the base branch's: the comment names the pull request's.
    assert github.runs["42"]["head_sha"] == repository.base
    github.merge(repository.merge, PR_NUMBER, repository.head)
    actions.run_id = "50"
    run = actions.run(
        None,
        event_name="push",
        mode="apply",
        inputs={"plan_workflow": "registry-plan.yml"},
        sha=repository.merge,
    )
    assert run.code == 0, run.log
    assert registry.entries()[CHAT_ID]["definition"]["contextWindow"] == 65536


def test_a_fork_head_checkout_never_sends_the_key_to_the_pull_requests_api_url(
    actions: Actions,
    github: FakeGitHub,
    registry: RegistryServer,
    elsewhere: RegistryServer,
    repository: Repository,
) -> None:
    def redirect(root: Path) -> None:
        change_model(root)
        (root / "registry-sync.yaml").write_text(
            f"models_dir: models\napi_url: {elsewhere.url}\n", encoding="utf-8"
        )

    repository.pull_request(redirect)
    repository.checkout(repository.head)  # ref: head.sha, as a careless workflow does
    run = target_run(actions, repository)
    assert run.code == 1
    assert (
        f"a pull_request_target run plans the pull request's merge ({repository.merge[:7]}), "
        f"but the checkout is the pull request's head ({repository.head[:7]}) without the "
        "base branch: check out the merge with actions/checkout and `ref: "
        "refs/pull/${{ github.event.pull_request.number }}/merge`"
    ) in run.log
    assert "❌ Not planned:" in comment(github)

    # The merge checked out: still the pull request's own api_url, so still refused.
    repository.checkout(repository.merge)
    run = target_run(actions, repository)
    assert run.code == 1
    assert (
        f"this pull request changes where the registry key goes (the API URL is "
        f"'{registry.url}' on the base branch but '{elsewhere.url}' in the pull request)"
    ) in run.log
    assert elsewhere.requests() == []
    assert registry.requests() == []


def test_the_default_base_checkout_says_it_is_not_the_pull_requests_merge(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, repository: Repository
) -> None:
    repository.pull_request(change_model)
    repository.checkout(repository.base)  # actions/checkout's default on this event
    run = target_run(actions, repository)
    assert run.code == 1
    assert (
        f"but the checkout is the base branch's last commit ({repository.base[:7]}), whose "
        "plan shows nothing the pull request changes"
    ) in run.log
    assert "No changes" not in comment(github)
    assert "Not planned" in comment(github)
    assert registry.requests() == []


def test_a_pull_request_github_cannot_merge_is_not_planned(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, repository: Repository
) -> None:
    repository.pull_request(change_model)
    github.pull_requests[PR_NUMBER].update(mergeable=False, merge_commit_sha=None)
    run = target_run(actions, repository)
    assert run.code == 1
    assert f"GitHub has no merge of pull request #{PR_NUMBER} with its base branch" in run.log
    assert registry.requests() == []
