"""Drift you can accept (issue 25): with ``drift-pull-request``, the drift job keeps a
pull request beside its issue that writes what the registry holds into the files
(``registry-sync pull``), opened, updated while the drift changes, and closed with
the issue once the drift is gone; merging it closes the issue. The fake GitHub
serves the Git Data API and closes an issue a merged pull request's body closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fake_github import FakeGitHub
from github_actions import CHAT_ID, EMBED_ID, MERGE_SHA, Actions, Run, edit_model

from registry_sync.github.review import read_marker
from registry_sync.testing import RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]


class Checkout:
    """The main branch's files: each drift run starts from them, as a fresh checkout
    does, whatever pull wrote in the run before."""

    def __init__(self, models: Path) -> None:
        self.models = models
        self.files: dict[Path, str] = {}
        self.commit()

    def commit(self) -> None:
        self.files = {p: p.read_text(encoding="utf-8") for p in self.models.glob("*.yaml")}

    def restore(self) -> None:
        """Back to the branch's files (undo what pull wrote)."""
        for path, text in self.files.items():
            path.write_text(text, encoding="utf-8")

    def drift_run(self, actions: Actions) -> Run:
        self.restore()
        inputs = {"drift_pull_request": "true"}
        return actions.run(self.models, event_name="schedule", inputs=inputs)


def accepting(github: FakeGitHub) -> list[dict[str, Any]]:
    return [p for p in github.pull_requests.values() if read_marker(p["body"], "accept-drift")]


def test_the_drift_pull_request_is_opened_updated_and_closed_with_the_issue(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, rpm=1200)  # main says 1200; the registry holds 600
    checkout = Checkout(models)

    first = checkout.drift_run(actions)

    assert first.code == 2, first.log
    (issue,) = github.issues
    (pull,) = accepting(github)
    branch = pull["head"]["ref"]
    assert branch.startswith("registry-sync/accept-drift-")
    assert pull["base"]["ref"] == "main"
    assert f"Closes #{issue['number']}" in pull["body"]
    assert f"**Accept it:** #{pull['number']} writes what the registry holds" in issue["body"]
    (written,) = github.branch_files(branch).items()
    assert written[0] == "models/1.yaml"
    assert yaml.safe_load(written[1])["rpm"] == 600
    assert github.commits[github.branches[branch]]["parents"] == [MERGE_SHA]

    # The drift changes: the same issue and pull request, updated.
    checkout.restore()
    edit_model(models, EMBED_ID, displayName="Embeddings")
    checkout.commit()
    actions.run_id = "43"
    second = checkout.drift_run(actions)
    assert second.code == 2, second.log
    assert len(github.issues) == 1 and accepting(github) == [pull]
    assert sorted(github.branch_files(branch)) == ["models/1.yaml", "models/2.yaml"]
    assert "[run 43]" in issue["body"] and f"#{pull['number']}" in issue["body"]

    # The drift is gone: both closed.
    checkout.restore()
    edit_model(models, CHAT_ID, rpm=600)
    (models / "2.yaml").write_text(
        (models / "2.yaml").read_text(encoding="utf-8").replace("displayName: Embeddings\n", ""),
        encoding="utf-8",
    )
    checkout.commit()
    gone = checkout.drift_run(actions)
    assert gone.code == 0, gone.log
    assert issue["state"] == "closed"
    assert pull["state"] == "closed"
    assert github.comments[pull["number"]][-1]["body"].startswith("✅ No drift any more")


def test_merging_the_drift_pull_request_closes_both(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, rpm=1200)
    checkout = Checkout(models)
    assert checkout.drift_run(actions).code == 2
    (issue,) = github.issues
    (pull,) = accepting(github)

    github.merge_pull(pull["number"])
    for path, text in github.branch_files(pull["head"]["ref"]).items():
        (actions.tmp_path / path).write_text(text, encoding="utf-8")
    checkout.commit()

    assert issue["state"] == "closed"
    github.requests.clear()
    after = checkout.drift_run(actions)
    assert after.code == 0, after.log
    assert len(accepting(github)) == 1 and len(github.issues) == 1
    assert [m for m, _ in github.requests if m not in ("GET",)] == ["POST"]  # viewer only


def test_without_the_input_there_is_the_issue_alone(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, rpm=1200)
    assert actions.run(models, event_name="schedule").code == 2
    assert len(github.issues) == 1
    assert accepting(github) == []
    assert yaml.safe_load((models / "1.yaml").read_text(encoding="utf-8"))["rpm"] == 1200
