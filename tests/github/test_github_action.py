"""The GitHub Action's Python, run as Actions would run it: a fake ``GITHUB_*``
environment (event, summary and output files in tmp_path), the local registry server
and a fake GitHub REST API, both over real HTTP on 127.0.0.1. Apply mode has its
own module, test_github_apply.py."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_github import BOT, GITHUB_TOKEN, REPOSITORY, FakeGitHub
from github_actions import (
    API_KEY,
    CHAT_ID,
    EMBED_ID,
    HEAD_SHA,
    IMMUTABLE_ID,
    PR_NUMBER,
    Actions,
    add_bulk_models,
    edit_model,
    make_models,
)

from registry_sync.errors import ConfigError
from registry_sync.github import (
    ActionInputs,
    ActionLog,
    ActionOptions,
    GitHubClient,
    GitHubError,
    ProjectKey,
    resolve_mode,
    resolve_options,
)
from registry_sync.github.cli import parse_options
from registry_sync.github.review import is_marked, marker, read_marker
from registry_sync.settings.config import ProjectConfig
from registry_sync.testing import RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]


def plan_comments(github: FakeGitHub, number: int = PR_NUMBER) -> list[dict[str, Any]]:
    """The comments carrying a plan marker, whoever wrote them."""
    return [c for c in github.comments.get(number, []) if read_marker(c["body"], "plan")]


def project(models: Path, registry: RegistryServer) -> ProjectKey:
    """The key of a models folder at the checkout's root (tmp_path)."""
    return ProjectKey(models.name, registry.url)


# -- pull requests ---------------------------------------------------------------


def test_comment_is_created_once_then_updated(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    # Other comments first, so the sticky one lands on a later page; a reply quoting
    # the plan holds the marker too, but not at the start, and must be left alone.
    github.add(PR_NUMBER, "Looks good to me")
    github.add(PR_NUMBER, f"> {'<!-- registry-sync-plan {} -->'}\n> quoted plan\n\nwhy?")
    github.add(PR_NUMBER, "one more")
    edit_model(models, CHAT_ID, contextWindow=65536)

    first = actions.run(models)
    assert first.code == 0, first.log
    assert [target for method, target in github.requests if method == "POST"] == [
        "/graphql",
        f"/repos/{REPOSITORY}/issues/{PR_NUMBER}/comments",
    ]
    (comment,) = plan_comments(github)
    assert comment["user"]["login"] == BOT
    assert "1 to update" in comment["body"]
    assert "`contextWindow` | `32768` | `65536`" in comment["body"]
    assert first.outputs["comment-url"] == comment["html_url"]

    edit_model(models, CHAT_ID, contextWindow=131072)
    github.requests.clear()
    second = actions.run(models)
    assert second.code == 0, second.log
    methods = [method for method, _ in github.requests]
    assert methods.count("PATCH") == 1
    # The identity is looked up once (GraphQL's viewer answers for an installation
    # token too), then both pages of comments.
    assert github.requests[0] == ("POST", "/graphql")
    assert methods.count("POST") == 1
    assert methods.count("GET") == 2
    (updated,) = plan_comments(github)
    assert updated["id"] == comment["id"]
    assert "`contextWindow` | `32768` | `131072`" in updated["body"]
    assert len(github.comments[PR_NUMBER]) == 4


def test_a_comment_by_someone_else_with_the_marker_is_left_alone(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    first = actions.run(models)
    assert first.code == 0, first.log
    (ours,) = plan_comments(github)
    # Someone pastes our comment, marker and all, into a comment of their own.
    forged = github.add(PR_NUMBER, ours["body"].replace("No changes", "Approved"), "mallory")
    edit_model(models, CHAT_ID, contextWindow=65536)
    second = actions.run(models)
    assert second.code == 0, second.log
    assert "Approved" in forged["body"]
    assert "1 to update" in ours["body"]
    assert len(plan_comments(github)) == 2

    # Only a comment by someone else: ours is created beside it, not edited into it.
    github.comments.clear()
    github.add(PR_NUMBER, ours["body"], "mallory")
    third = actions.run(models)
    assert third.code == 0, third.log
    mine = [c for c in plan_comments(github) if c["user"]["login"] == BOT]
    assert len(mine) == 1
    assert is_marked(mine[0]["body"], "plan", project(models, registry))


def test_the_identity_of_a_user_token_is_looked_up(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.user = "registry-bot"
    github.add(PR_NUMBER, "old", BOT)
    run = actions.run(models)
    assert run.code == 0, run.log
    (comment,) = plan_comments(github)
    assert comment["user"]["login"] == "registry-bot"
    run = actions.run(models)
    assert len(plan_comments(github)) == 1


def test_two_projects_keep_two_comments_and_two_artifacts(
    actions: Actions,
    github: FakeGitHub,
    registry: RegistryServer,
    models: Path,
    tmp_path: Path,
    registry_seed: dict[str, Any],
) -> None:
    other = make_models(tmp_path / "other-models", registry_seed)
    edit_model(other, CHAT_ID, rpm=1200)
    first = actions.run(models)
    second = actions.run(other)
    assert (first.code, second.code) == (0, 0)
    comments = plan_comments(github)
    assert len(comments) == 2
    assert is_marked(comments[0]["body"], "plan", project(models, registry))
    assert is_marked(comments[1]["body"], "plan", project(other, registry))
    assert "No changes." in comments[0]["body"]
    assert "1 to update" in comments[1]["body"]
    assert first.outputs["artifact-name"] != second.outputs["artifact-name"]
    assert first.outputs["artifact-name"].startswith("registry-sync-plan-")
    # Each run finds its own comment again.
    edit_model(models, EMBED_ID, displayName="Embeddings")
    assert actions.run(models).code == 0
    comments = plan_comments(github)
    assert len(comments) == 2
    assert "1 to update" in comments[0]["body"]
    # The same folder against another registry is another project too.
    assert (
        ProjectKey("models", "https://a.example").text
        != ProjectKey("models", "https://b.example").text
    )
    assert ProjectKey("models", "https://a").slug != ProjectKey("models", "https://a", "prod").slug


def test_comment_says_where_when_and_what_merging_does(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models, inputs={"apply_environment": "registry"})
    assert run.code == 0, run.log
    (comment,) = plan_comments(github)
    body = comment["body"]
    data = read_marker(body, "plan")
    assert data is not None
    digest = run.outputs["plan-digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert data == {
        "project": f"models/ → {registry.url}",
        "digest": digest,
        "head": HEAD_SHA,
        "run": "42",
        "artifact": run.outputs["artifact-name"],
        "workflow": ".github/workflows/registry-plan.yml",
    }
    commit = f"[`{HEAD_SHA[:7]}`](https://github.example/{REPOSITORY}/commit/{HEAD_SHA})"
    assert f"Planned at {commit}" in body
    assert f"[run 42](https://github.example/{REPOSITORY}/actions/runs/42)" in body
    assert re.search(r" · \d{4}-\d\d-\d\d \d\d:\d\d UTC · ", body)
    assert f"plan digest `{digest.removeprefix('sha256:')[:12]}`" in body
    assert (
        f"**Next:** Merging applies exactly this plan to `{registry.url}` after approval in "
        "the `registry` environment; the apply job refuses any other." in body
    )
    assert run.summary == body

    edit_model(models, CHAT_ID, contextWindow=32768)
    run = actions.run(models)
    assert (
        f"**Next:** Merging changes nothing in `{registry.url}`."
        in plan_comments(github)[0]["body"]
    )


def test_pull_request_writes_summary_outputs_and_plan_file(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models)
    assert run.code == 0, run.log
    assert run.summary == plan_comments(github)[0]["body"]
    assert run.outputs["result"] == "changes"
    assert run.outputs["has-changes"] == "true"
    assert json.loads(run.outputs["changed-ids"]) == [CHAT_ID]
    assert run.outputs["plan-file"] == str(actions.plan_file)
    document = json.loads(actions.plan_file.read_text(encoding="utf-8"))
    assert document["format_version"] == "2"
    assert document["summary"]["update"] == 1


def test_pull_request_without_changes_passes(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    run = actions.run(models)
    assert run.code == 0, run.log
    assert run.outputs["result"] == "no-changes"
    assert run.outputs["has-changes"] == "false"
    assert "No changes." in plan_comments(github)[0]["body"]


def test_plan_mode_on_a_push_plans_without_a_comment(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models, event_name="push", mode="plan")
    assert run.code == 0, run.log
    assert run.outputs["has-changes"] == "true"
    assert "1 to update" in run.summary
    assert github.requests == []
    edit_model(models, CHAT_ID, contextWindow=32768)
    run = actions.run(models, event_name="push", mode="plan")
    assert (run.code, run.outputs["has-changes"]) == (0, "false")


@pytest.mark.parametrize("mode", ["", "pr"])
def test_a_merge_group_is_planned_and_never_reported_as_drift(
    actions: Actions, github: FakeGitHub, models: Path, mode: str
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    edit_model(models, EMBED_ID, displayName="Embeddings")  # two pull requests' changes
    run = actions.run(models, event_name="merge_group", mode=mode)
    assert run.code == 0, run.log
    assert run.outputs["result"] == "changes"
    assert json.loads(run.outputs["changed-ids"]) == [EMBED_ID, CHAT_ID]
    assert "2 to update" in run.summary
    assert github.issues == []
    assert github.comments == {}
    assert "drift" not in run.log.lower()

    # A group whose plan apply would refuse fails the queue.
    edit_model(models, IMMUTABLE_ID, contextWindow=1)
    run = actions.run(models, event_name="merge_group", mode=mode)
    assert run.code == 1
    assert run.outputs["result"] == "conflict"
    assert github.issues == []


def test_read_only_conflict_fails_the_check(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, IMMUTABLE_ID, contextWindow=1)
    run = actions.run(models)
    assert run.code == 1
    assert run.outputs["result"] == "conflict"
    assert "::error title=registry-sync%3A policy violation::" in run.log
    assert f"read-only-conflict: {IMMUTABLE_ID} is immutable" in run.log
    body = plan_comments(github)[0]["body"]
    assert "read-only conflict, blocks apply" in body
    assert (
        "**Next:** Merging cannot apply this plan: resolve its violations (listed at the top) "
        "first." in body
    )
    assert actions.plan_file.exists()  # uploaded as the artifact all the same


def test_a_policy_violation_fails_the_check(
    actions: Actions, github: FakeGitHub, tmp_path: Path, registry: RegistryServer, models: Path
) -> None:
    # A prune of a protected entry: the plan is made, and apply would refuse it.
    write_config(tmp_path, f'api_url: {registry.url}\nprotect: ["{EMBED_ID}"]\n')
    (models / "2.yaml").unlink()
    run = actions.run(models, inputs={"prune": "true"})
    assert run.code == 1, run.log
    assert run.outputs["result"] == "violation"
    assert "::error title=registry-sync%3A policy violation::" in run.log
    assert f"protect: {EMBED_ID} is protected" in run.log
    body = plan_comments(github)[0]["body"]
    assert "Merging cannot apply this plan: resolve its violations" in body


def test_model_warnings_are_annotated_but_never_fail_the_check(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=0)  # the API accepts it; we advise against it
    run = actions.run(models)
    assert run.code == 0, run.log
    assert re.search(
        r"::warning title=registry-sync validate,file=models/1\.yaml,line=\d+::contextWindow",
        run.log,
    )


def test_invalid_models_fail_with_file_annotations_and_no_plan(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow="big")
    run = actions.run(models)
    assert run.code == 1
    assert run.outputs["result"] == "invalid"
    # Relative to the checkout, so the annotation shows on the file in the diff.
    assert re.search(
        r"::error title=registry-sync validate,file=models/1\.yaml,line=\d+::", run.log
    )
    # The same wording as registry-sync validate.
    assert re.search(r"^\d+ model definitions in \d+ files, 1 problem\.$", run.log, flags=re.M)
    assert registry.requests() == []
    body = plan_comments(github)[0]["body"]
    assert "is invalid: 1 problem" in body
    assert "No plan was made." in body
    assert read_marker(body, "plan") is not None
    assert read_marker(body, "plan")["digest"] is None  # type: ignore[index]
    assert run.summary == body


def test_fork_validates_and_explains_why_plan_was_skipped(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    run = actions.run(models, api_key=None, head="stranger/models")
    assert run.code == 0, run.log
    assert run.outputs["result"] == "skipped"
    assert "Plan skipped" in run.summary
    assert "comes from a fork (stranger/models)" in run.summary
    assert "no secrets" in run.summary
    assert "::warning title=registry-sync::plan skipped" in run.log
    # A fork's token cannot comment, and without a key there is nothing to ask.
    assert github.requests == []
    assert registry.requests() == []


def test_fork_with_invalid_models_still_fails(actions: Actions, models: Path) -> None:
    edit_model(models, CHAT_ID, rpm="fast")
    run = actions.run(models, api_key=None, head="stranger/models")
    assert run.code == 1
    assert run.outputs["result"] == "invalid"


@pytest.mark.parametrize("change", [True, False], ids=["changes", "no-changes"])
def test_a_comment_that_cannot_be_posted_leaves_the_plan_green(
    actions: Actions, github: FakeGitHub, models: Path, change: bool
) -> None:
    github.read_only = True
    if change:
        edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models)
    assert run.code == 0, run.log
    assert run.outputs["result"] == ("changes" if change else "no-changes")
    warning = next(line for line in run.log.splitlines() if line.startswith("::warning"))
    assert "posting the plan comment failed; the result above stands" in warning
    assert "Resource not accessible by integration" in warning
    assert "permissions: pull-requests: write" in warning
    assert "> [!WARNING]" in run.summary
    assert "posting the plan comment failed" in run.summary
    assert "::error" not in run.log
    assert "comment-url" not in run.outputs


def test_a_failed_comment_never_hides_a_failed_check(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.read_only = True
    edit_model(models, IMMUTABLE_ID, contextWindow=1)
    assert actions.run(models).code == 1


def test_without_a_token_the_plan_is_in_the_summary_only(
    actions: Actions, github: FakeGitHub, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = actions.environ("pull_request")
    del environ["GITHUB_TOKEN"]
    monkeypatch.setattr(actions, "environ", lambda *args, **kwargs: environ)
    run = actions.run(models)
    assert run.code == 0
    assert "GITHUB_TOKEN is not set, so posting the plan comment was skipped" in run.log
    assert "No changes." in run.summary
    assert github.requests == []


def test_failed_plan_is_reported_not_taken_for_no_changes(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    run = actions.run(models, api_key="wrong-key")
    assert run.code == 1
    assert run.outputs["result"] == "error"
    body = plan_comments(github)[0]["body"]
    assert "The plan failed." in body
    assert "Nothing can be applied until the plan succeeds" in body
    assert "401" in run.summary
    assert not actions.plan_file.exists()


def test_pull_request_target_is_refused_unless_opted_in(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    run = actions.run(models, event_name="pull_request_target")
    assert run.code == 1
    assert "refusing to run on pull_request_target" in run.log
    assert "allow-pull-request-target: true" in run.log
    assert registry.requests() == []
    assert github.requests == []


# -- configuration precedence ------------------------------------------------------


def write_config(folder: Path, text: str) -> None:
    (folder / "registry-sync.yaml").write_text(text, encoding="utf-8")


def test_registry_sync_yaml_applies_when_inputs_are_not_given(
    actions: Actions, tmp_path: Path, registry: RegistryServer, models: Path
) -> None:
    write_config(tmp_path, f"models_dir: models\napi_url: {registry.url}\nprune: true\n")
    edit_model(models, CHAT_ID, rpm=1200)
    (models / "2.yaml").unlink()  # the embeddings entry: pruned, since the file says so
    run = actions.run(None)
    assert run.code == 0, run.log
    document = json.loads(actions.plan_file.read_text(encoding="utf-8"))
    assert document["registry"] == registry.url
    assert document["models_dir"] == "models"
    assert document["prune"] is True
    assert json.loads(run.outputs["changed-ids"]) == [EMBED_ID, CHAT_ID]

    # prune: "false" wins over prune: true in the file.
    run = actions.run(None, inputs={"prune": "false"})
    assert run.code == 0, run.log
    assert json.loads(run.outputs["changed-ids"]) == [CHAT_ID]


def test_an_input_given_wins_over_registry_sync_yaml(
    actions: Actions, tmp_path: Path, registry: RegistryServer, models: Path
) -> None:
    # The file points at a registry that does not exist: only the inputs can work.
    write_config(tmp_path, "models_dir: elsewhere\napi_url: http://127.0.0.1:9\n")
    run = actions.run(models)
    assert run.code == 0, run.log
    assert json.loads(actions.plan_file.read_text(encoding="utf-8"))["registry"] == registry.url


def test_an_invalid_registry_sync_yaml_is_an_error_at_its_line(
    actions: Actions, tmp_path: Path, models: Path
) -> None:
    write_config(tmp_path, "models_dir: models\nprune: sometimes\n")
    run = actions.run(models)
    assert run.code == 1
    assert (
        "::error title=registry-sync config,file=registry-sync.yaml,line=2::prune: expected "
        "true or false" in run.log
    )


@pytest.mark.parametrize(
    ("inputs", "config", "environ", "expected"),
    [
        (ActionInputs(), ProjectConfig(), {}, ActionOptions()),
        (
            ActionInputs(),
            ProjectConfig("r.yaml", Path("defs"), "https://staging.example", True),
            {},
            ActionOptions(
                models_dir=Path("defs"),
                api_url="https://staging.example",
                prune=True,
                config_file="r.yaml",
            ),
        ),
        (
            ActionInputs(models_dir="m", api_url="https://input.example", prune="false"),
            ProjectConfig("r.yaml", Path("defs"), "https://staging.example", True),
            {"MKA1_API_URL": "https://env.example"},
            ActionOptions(
                models_dir=Path("m"), api_url="https://input.example", config_file="r.yaml"
            ),
        ),
        (
            ActionInputs(prune="true"),
            ProjectConfig(api_url="https://staging.example", prune=False),
            {"MKA1_API_URL": "https://env.example"},
            ActionOptions(api_url="https://env.example", prune=True),
        ),
    ],
    ids=["defaults", "file", "inputs", "environment"],
)
def test_resolve_options(
    inputs: ActionInputs,
    config: ProjectConfig,
    environ: dict[str, str],
    expected: ActionOptions,
) -> None:
    assert resolve_options(inputs, config, environ) == expected


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (ActionInputs(prune="yes"), "input prune must be true, false or empty, got 'yes'"),
        (ActionInputs(mode="deploy"), "input mode must be one of auto, pr, plan, drift, apply"),
    ],
)
def test_resolve_options_rejects_bad_inputs(inputs: ActionInputs, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve_options(inputs, ProjectConfig(), {})


# -- drift -----------------------------------------------------------------------


def drift_issues(github: FakeGitHub) -> list[dict[str, Any]]:
    return [issue for issue in github.issues if read_marker(issue["body"], "drift")]


def test_no_drift_exits_zero(actions: Actions, github: FakeGitHub, models: Path) -> None:
    run = actions.run(models, event_name="schedule")
    assert run.code == 0, run.log
    assert "No drift" in run.summary
    assert run.outputs["result"] == "no-changes"
    assert github.issues == []
    assert github.comments == {}


def test_drift_fails_and_names_the_drifted_entries(actions: Actions, models: Path) -> None:
    edit_model(models, CHAT_ID, rpm=1200)
    edit_model(models, EMBED_ID, displayName="Embeddings")
    run = actions.run(models, event_name="push")
    assert run.code == 2
    assert run.outputs["result"] == "changes"
    drifted = [EMBED_ID, CHAT_ID]
    assert json.loads(run.outputs["changed-ids"]) == drifted
    assert "Drift: 2 registry entries differ from `models/` on `main`" in run.summary
    for entry in drifted:
        assert f"- `{entry}`" in run.summary
    (annotation,) = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error title=registry-sync%3A drift::2 registry entries differ")
    assert annotation.endswith(", ".join(drifted))


def test_drift_opens_updates_and_closes_one_issue_per_project(
    actions: Actions,
    github: FakeGitHub,
    registry: RegistryServer,
    models: Path,
    tmp_path: Path,
    registry_seed: dict[str, Any],
) -> None:
    # Someone else's issue carrying our marker is never taken for ours.
    forged = github.add_issue(
        "drift?", marker("drift", {"project": project(models, registry).text}), "mallory"
    )
    edit_model(models, CHAT_ID, rpm=1200)
    first = actions.run(models, event_name="schedule")
    assert first.code == 2
    (issue,) = [i for i in drift_issues(github) if i["user"]["login"] == BOT]
    assert issue["title"] == f"Registry drift: {registry.url} differs from models/"
    assert is_marked(issue["body"], "drift", project(models, registry))
    assert "1 registry entry differs" in issue["body"]
    assert "`rpm` | `600` | `1200`" in issue["body"]
    assert "[run 42]" in issue["body"]

    # Still drifting, differently: the same issue, updated.
    edit_model(models, EMBED_ID, displayName="Embeddings")
    actions.run_id = "43"
    assert actions.run(models, event_name="schedule").code == 2
    assert len(github.issues) == 2
    assert "2 registry entries differ" in issue["body"]
    assert "[run 43]" in issue["body"]

    # Another project drifting gets its own issue.
    other = make_models(tmp_path / "other", registry_seed)
    edit_model(other, EMBED_ID, displayName="Other")
    assert actions.run(other, event_name="schedule").code == 2
    assert len(github.issues) == 3

    # Drift gone: closed, with a comment saying so; the other project's stays open.
    edit_model(models, CHAT_ID, rpm=600)
    edit_model(models, EMBED_ID, displayName=None)
    (models / "2.yaml").write_text(
        (models / "2.yaml").read_text(encoding="utf-8").replace("displayName: null\n", ""),
        encoding="utf-8",
    )
    closed = actions.run(models, event_name="schedule")
    assert closed.code == 0, closed.log
    assert issue["state"] == "closed"
    (comment,) = github.comments[issue["number"]]
    assert comment["body"].startswith("✅ No drift any more")
    assert github.issues[2]["state"] == "open"
    assert forged["state"] == "open"
    # No drift and no issue: nothing to close, nothing written.
    github.requests.clear()
    assert actions.run(models, event_name="schedule").code == 0
    # Only reads (the identity is a GraphQL query, which is a POST).
    assert all(method == "GET" or target == "/graphql" for method, target in github.requests)


def test_drift_lists_unhealthy_models_in_its_summary_and_issue(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    registry.set_unhealthy(EMBED_ID, "upstream <502>")
    healthy_drift = actions.run(models, event_name="schedule")
    edit_model(models, CHAT_ID, rpm=1200)
    drift = actions.run(models, event_name="schedule")
    registry.set_unhealthy(EMBED_ID, None)

    assert healthy_drift.code == 0, healthy_drift.log
    assert f"- `{EMBED_ID}`: upstream \\<502\\>" in healthy_drift.summary
    assert "::warning title=registry-sync%3A unhealthy models::" in healthy_drift.log
    assert drift.code == 2
    (issue,) = drift_issues(github)
    assert "Unhealthy now (1)" in issue["body"]
    assert f"- `{EMBED_ID}`: upstream \\<502\\>" in issue["body"]


def test_drift_issue_that_cannot_be_written_is_a_warning(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.read_only = True
    edit_model(models, CHAT_ID, rpm=1200)
    run = actions.run(models, event_name="schedule")
    assert run.code == 2  # the plan's, not the issue's
    assert "updating the drift issue failed" in run.log
    assert "permissions: issues: write" in run.log


def test_drift_on_a_read_only_entry_is_an_error(actions: Actions, models: Path) -> None:
    edit_model(models, IMMUTABLE_ID, hidden=True)
    run = actions.run(models, event_name="schedule")
    assert run.code == 1
    assert json.loads(run.outputs["changed-ids"]) == [IMMUTABLE_ID]


def test_drift_without_the_key_is_an_error(actions: Actions, models: Path) -> None:
    run = actions.run(models, event_name="schedule", api_key=None)
    assert run.code == 1
    assert "::error title=registry-sync::drift detection needs the registry's API key" in run.log


def test_mode_pr_on_a_push_is_an_error(actions: Actions, models: Path) -> None:
    run = actions.run(models, event_name="push", mode="pr")
    assert run.code == 1
    assert run.outputs["result"] == "error"
    assert "mode pr needs a pull_request event" in run.log


# -- the API key -----------------------------------------------------------------


def test_api_key_appears_in_no_output(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    pull = actions.run(models)
    saved_plan = actions.plan_file.read_text(encoding="utf-8")
    drift = actions.run(models, event_name="schedule")
    failed = actions.run(models, api_key=API_KEY + "-revoked")
    assert registry.requests(), "the key was never used"
    for run in (pull, drift, failed):
        # The one line that names it is the runner's mask command, which the runner
        # consumes and never shows.
        mask_lines = [line for line in run.log.splitlines() if line.startswith("::add-mask::")]
        assert len(mask_lines) == 1
        shown = run.log.replace(mask_lines[0], "")
        for text in (shown, run.summary, json.dumps(run.outputs)):
            assert API_KEY not in text
    for comment in github.comments[PR_NUMBER]:
        assert API_KEY not in comment["body"]
    for issue in github.issues:
        assert API_KEY not in issue["body"]
    assert API_KEY not in saved_plan


# -- nothing from the checkout is imported ------------------------------------------


def shadow_package(folder: Path) -> None:
    """A ``registry_sync/`` folder, as a pull request could add to the checkout."""
    for package in ("registry_sync", "registry_sync/github"):
        (folder / package).mkdir(parents=True, exist_ok=True)
        (folder / package / "__init__.py").write_text(
            "raise SystemExit('IMPORTED FROM THE CHECKOUT')\n", encoding="utf-8"
        )
    for module in ("registry_sync/__main__.py", "registry_sync/github/__main__.py"):
        (folder / module).write_text("raise SystemExit('IMPORTED FROM THE CHECKOUT')\n")


def test_the_plan_runs_the_installed_package_not_the_checkout(
    actions: Actions, tmp_path: Path, models: Path
) -> None:
    shadow_package(tmp_path)  # the current folder of the step
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models)
    assert run.code == 0, run.log
    assert "IMPORTED FROM THE CHECKOUT" not in run.log
    assert run.outputs["has-changes"] == "true"


def test_entry_point_outside_actions_says_where_it_runs(tmp_path: Path) -> None:
    shadow_package(tmp_path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MKA1_"))}
    # As action.yml runs it: isolated, from the checkout.
    result = subprocess.run(
        [sys.executable, "-I", "-m", "registry_sync.github", "--mode", "drift"],
        cwd=tmp_path,
        env={**environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "IMPORTED FROM THE CHECKOUT" not in result.stderr
    assert "::error title=registry-sync::GITHUB_EVENT_NAME and GITHUB_REPOSITORY are not set" in (
        result.stdout
    )


# -- pieces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "event", "resolved"),
    [
        ("auto", "pull_request", "pr"),
        ("auto", "pull_request_target", "pr"),
        ("auto", "schedule", "drift"),
        ("auto", "push", "drift"),
        ("auto", "workflow_dispatch", "drift"),
        ("pr", "push", "pr"),
        ("drift", "pull_request", "drift"),
        ("apply", "push", "apply"),
        ("auto", "merge_group", "plan"),
        ("pr", "merge_group", "plan"),
        ("drift", "merge_group", "drift"),
        ("auto", "issue_comment", "replan"),
        ("apply", "issue_comment", "apply"),
    ],
)
def test_resolve_mode(mode: str, event: str, resolved: str) -> None:
    assert resolve_mode(mode, event) == resolved


def test_untrusted_output_cannot_issue_workflow_commands() -> None:
    stream = io.StringIO()
    ActionLog(stream).untrusted("models/a.yaml:3: ::add-mask::x\n::error::forged\n")
    lines = stream.getvalue().splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) >= 32
    assert lines[1:] == ["models/a.yaml:3: ::add-mask::x", "::error::forged", f"::{token}::"]


def test_annotations_escape_newlines_and_properties() -> None:
    stream = io.StringIO()
    ActionLog(stream).annotate("error", "50% done\nnext", title="a: b, c", file="m.yaml", line=3)
    assert stream.getvalue() == "::error title=a%3A b%2C c,file=m.yaml,line=3::50%25 done%0Anext\n"


def test_parse_options_leaves_what_is_not_given_empty() -> None:
    assert parse_options([]) == ActionInputs()
    inputs = parse_options(
        ["--models-dir", "defs", "--mode", "drift", "--prune", "false", "--plan-file", "p.json"]
    )
    assert inputs == ActionInputs(
        models_dir="defs", mode="drift", prune="false", plan_file=Path("p.json")
    )


def test_client_follows_pages_and_maps_errors(github: FakeGitHub) -> None:
    for index in range(5):
        github.add(PR_NUMBER, f"comment {index}", BOT)
    target = github.add(PR_NUMBER, "<!-- registry-sync-plan {} -->\nold plan", BOT)
    github.add(PR_NUMBER, "<!-- registry-sync-plan {} -->\nnot ours", "mallory")
    with GitHubClient(github.url, GITHUB_TOKEN, REPOSITORY) as client:
        found = client.find_comment(PR_NUMBER, lambda body: "old plan" in body)
        assert found is not None and found["id"] == target["id"]
        assert client.find_comment(PR_NUMBER, lambda body: "not ours" in body) is None
        assert client.find_comment(PR_NUMBER + 1, lambda body: True) is None
    assert [target for _, target in github.requests].count("/graphql") == 1
    with (
        GitHubClient(github.url, "wrong-token", REPOSITORY) as client,
        pytest.raises(GitHubError, match="returned 401: Bad credentials") as error,
    ):
        client.comment(PR_NUMBER, "body")
    assert "wrong-token" not in str(error.value)


def test_a_drift_issue_holds_the_plan_within_the_limit_with_its_markup_whole(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    add_bulk_models(models, 400)  # 400 entries missing from the registry
    run = actions.run(models, event_name="schedule")
    assert run.code == 2, run.log
    (issue,) = github.issues
    body = issue["body"]
    assert len(body) <= 65536
    assert is_marked(body, "drift", project(models, registry))
    assert "### ❌ Drift: 400 registry entries differ from `models/` on `main`" in body
    assert body.count("<details>") == body.count("</details>") > 0
    assert "**Not shown:** " in body
    assert "[this workflow run](https://github.example/acme/models/actions/runs/42)" in body
    assert issue["title"] == f"Registry drift: {registry.url} differs from models/"


def test_an_environment_has_its_own_comment_plan_and_overlay_lines(
    actions: Actions, github: FakeGitHub, tmp_path: Path, registry: RegistryServer, models: Path
) -> None:
    write_config(
        tmp_path,
        "models_dir: models\n"
        "environments:\n"
        "  staging:\n"
        f"    api_url: {registry.url}\n"
        "    api_key_env: MKA1_API_KEY\n"
        "    overlay: overlays/staging\n",
    )
    overlay = tmp_path / "overlays" / "staging"
    overlay.mkdir(parents=True)
    (overlay / "chat.yaml").write_text(f"id: {CHAT_ID}\nrpm: 1200\n", encoding="utf-8")

    staged = actions.run(None, inputs={"registry_env": "staging"})
    plain = actions.run(None, inputs={"api_url": registry.url})

    assert (staged.code, plain.code) == (0, 0), staged.log + plain.log
    staging_comment, plain_comment = plan_comments(github)
    assert is_marked(staging_comment["body"], "plan", ProjectKey("models", registry.url, "staging"))
    assert is_marked(plain_comment["body"], "plan", ProjectKey("models", registry.url))
    assert "Environment `staging`." in staging_comment["body"]
    assert "| `rpm` (`overlays/staging/chat.yaml:2`) | `600` | `1200` |" in staging_comment["body"]
    assert "No changes." in plain_comment["body"]
    assert staged.outputs["artifact-name"] != plain.outputs["artifact-name"]
