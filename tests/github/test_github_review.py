"""The binding between review and apply (issue 24), end to end: the pull request's
plan run, the merge and the apply run, against the local registry and a fake GitHub
that checks tokens, keeps runs, artifacts and times, and answers GraphQL's viewer.
The comment is only a pointer; what apply trusts is the plan run and its artifact."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_github import BOT, FakeGitHub, Identity
from github_actions import (
    API_KEY,
    CHAT_ID,
    EMBED_ID,
    HEAD_SHA,
    MERGE_SHA,
    PR_NUMBER,
    Actions,
    Run,
    add_bulk_models,
    edit_model,
    write_model,
)

from registry_sync.github.review import marker, read_marker
from registry_sync.testing import RegistryServer

MAINTAINER_TOKEN = "ghp-maintainer-token-8c1e"

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]


def plan_run(actions: Actions, models: Path | None, **given: Any) -> Run:
    """The pull request's plan run 42 (its artifact uploaded as action.yml does)."""
    actions.run_id = "42"
    run = actions.run(models, **given)
    assert run.code == 0, run.log
    return run


def merge_and_apply(actions: Actions, models: Path | None, **given: Any) -> Run:
    actions.github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    return apply(actions, models, **given)


def apply(actions: Actions, models: Path | None, run_id: str = "50", **given: Any) -> Run:
    actions.run_id = run_id
    inputs = {"plan_workflow": "registry-plan.yml", **given.pop("inputs", {})}
    return actions.run(models, event_name="push", mode="apply", inputs=inputs, **given)


def plan_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.comments.get(PR_NUMBER, []) if read_marker(c["body"], "plan")]


def live(registry: RegistryServer, model_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = registry.entries()[model_id]["definition"]
    return definition


def writes(registry: RegistryServer) -> list[str]:
    return [r.method for r in registry.requests() if r.method != "GET"]


# -- the comment is a pointer -------------------------------------------------------


def test_an_edited_hidden_digest_is_refused_with_nothing_written(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    plan_run(actions, models)
    # Unreviewed: rpm 9000 lands on the branch; its plan's digest is easy to learn.
    edit_model(models, CHAT_ID, rpm=9000)
    actions.run_id = "49"
    unplanned = actions.run(models, event_name="push", mode="plan").outputs["plan-digest"]
    # A maintainer (write access: may edit any comment) puts it in the hidden marker.
    github.tokens[MAINTAINER_TOKEN] = Identity("maintainer", "user")
    (comment,) = plan_comments(github)
    data = read_marker(comment["body"], "plan")
    assert data is not None
    forged = marker("plan", {**data, "digest": unplanned})
    github.edit(comment, forged + "\n" + comment["body"].split("\n", 1)[1])
    registry.clear_requests()

    run = merge_and_apply(actions, models)

    assert run.code == 1
    assert run.outputs["result"] == "refused"
    assert writes(registry) == []
    assert live(registry, CHAT_ID)["rpm"] == 600
    assert (
        f"the plan comment on #{PR_NUMBER} was changed at {comment['updated_at']}, after its "
        "run 42 finished at"
    ) in run.summary
    assert "someone other than the plan job edited it, so it is not trusted" in run.summary


def test_an_edited_visible_plan_is_refused_too(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    plan_run(actions, models)
    (comment,) = plan_comments(github)
    github.edit(comment, comment["body"].replace("1 to update", "No changes"))
    run = merge_and_apply(actions, models)
    assert run.code == 1
    assert "so it is not trusted" in run.summary
    assert writes(registry) == []


def test_a_plan_finished_after_the_merge_is_refused_with_nothing_written(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    # The merge happens while the plan job of the last head is still running.
    edit_model(models, CHAT_ID, rpm=9000)
    github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    merged_at = github.pulls[MERGE_SHA][0]["merged_at"]
    plan_run(actions, models)
    registry.clear_requests()

    run = apply(actions, models)

    assert run.code == 1
    assert writes(registry) == []
    assert live(registry, CHAT_ID)["rpm"] == 600
    assert re.search(
        rf"the plan run 42 finished at \S+ but #{PR_NUMBER} was merged at {merged_at}: a "
        "plan finished after the merge was never reviewed",
        run.summary,
    )
    assert "comments `/registry-sync plan` on this pull request for a fresh plan" in run.summary


def test_an_expired_artifact_is_a_refusal_that_names_the_way_on(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    plan_run(actions, models)
    github.expire("42")
    run = merge_and_apply(actions, models)
    assert run.code == 1
    assert writes(registry) == []
    assert "the reviewed plan cannot be read: downloading the artifact" in run.summary
    assert "failed: it has expired (GitHub keeps artifacts for the repository's retention" in (
        run.summary
    )
    assert (
        "`/registry-sync plan` on this pull request for a fresh plan to approve, or a new "
        "pull request (an empty commit is enough)" in run.summary
    )


# -- whose comment it is ------------------------------------------------------------


def test_with_an_app_token_there_is_one_comment_edited_in_place_and_the_merge_applies(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    github.app = "registry-app"  # GET /user: 403; GraphQL's viewer: registry-app[bot]
    edit_model(models, CHAT_ID, contextWindow=131072)
    plan_run(actions, models)
    edit_model(models, CHAT_ID, contextWindow=65536)  # the next push
    plan_run(actions, models)

    (comment,) = plan_comments(github)
    assert comment["user"]["login"] == "registry-app[bot]"
    assert "`65536`" in comment["body"]
    run = merge_and_apply(actions, models)
    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536


def test_an_identity_nobody_can_tell_is_a_warning_and_comment_author_names_it(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.graphql = False
    run = plan_run(actions, models)
    assert plan_comments(github) == []
    assert "::warning title=registry-sync::posting the plan comment failed" in run.log
    assert "name the identity the token writes comments as in the comment-author input" in (
        run.summary
    )

    run = plan_run(actions, models, inputs={"comment_author": BOT})
    (comment,) = plan_comments(github)
    assert comment["user"]["login"] == BOT
    plan_run(actions, models, inputs={"comment_author": BOT})
    assert len(plan_comments(github)) == 1


def test_another_workflows_look_alike_comment_is_ignored(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    plan_run(actions, models)
    # Another workflow, writing as the same github-actions[bot], posts a comment with
    # this project's marker, for another change.
    edit_model(models, CHAT_ID, rpm=9000)
    actions.workflow = ".github/workflows/other.yml"
    actions.run_id = "43"
    assert actions.run(models).code == 0
    impostor = plan_comments(github)[-1]
    assert "`9000`" in impostor["body"]
    # The next push of the plan workflow edits its own comment, not the impostor.
    actions.workflow = None
    edit_model(models, CHAT_ID, rpm=600)
    plan_run(actions, models)
    ours, look_alike = plan_comments(github)
    assert look_alike is impostor and "`9000`" in impostor["body"]
    assert read_marker(ours["body"], "plan") == {
        **(read_marker(ours["body"], "plan") or {}),
        "run": "42",
        "workflow": ".github/workflows/registry-plan.yml",
    }

    run = merge_and_apply(actions, models)
    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert live(registry, CHAT_ID)["rpm"] == 600


# -- projects -----------------------------------------------------------------------


def team(root: Path, name: str, url: str, definition: dict[str, Any]) -> Path:
    """``teams/<name>``: a registry-sync.yaml owning one id, and models/ declaring it."""
    folder = root / "teams" / name
    (folder / "models").mkdir(parents=True)
    (folder / "registry-sync.yaml").write_text(
        f"models_dir: models\napi_url: {url}\nowns: ['{definition['id']}']\n", encoding="utf-8"
    )
    write_model(folder / "models" / "model.yaml", definition)
    return folder


def test_two_working_directory_projects_each_apply_their_own_reviewed_change(
    actions: Actions,
    github: FakeGitHub,
    registry: RegistryServer,
    tmp_path: Path,
    registry_seed: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = {e["definition"]["id"]: e["definition"] for e in registry_seed["data"]}
    declared = {
        key: {k: v for k, v in seed[key].items() if k not in ("source", "immutable")}
        for key in (CHAT_ID, EMBED_ID)
    }
    a = team(tmp_path, "a", registry.url, {**declared[CHAT_ID], "rpm": 1200})
    b = team(tmp_path, "b", registry.url, {**declared[EMBED_ID], "displayName": "Embeddings"})

    names = []
    for folder in (a, b):  # two jobs of the pull request's plan run
        monkeypatch.chdir(folder)
        names.append(plan_run(actions, None).outputs["artifact-name"])
    assert names[0] != names[1]
    comments = plan_comments(github)
    assert [(read_marker(c["body"], "plan") or {}).get("project") for c in comments] == [
        f"teams/a/models/ → {registry.url}",
        f"teams/b/models/ → {registry.url}",
    ]
    assert "1 to update" in comments[0]["body"] and "1 to update" in comments[1]["body"]
    assert sorted(a["name"] for a in github.artifacts["42"]) == sorted(names)

    github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    for folder in (a, b):
        monkeypatch.chdir(folder)
        run = apply(actions, None)
        assert run.code == 0, run.log
        assert run.outputs["result"] == "complete"
    assert live(registry, CHAT_ID)["rpm"] == 1200
    assert live(registry, EMBED_ID)["displayName"] == "Embeddings"


# -- the digest is of what is written ---------------------------------------------------


def test_a_change_after_a_line_shifting_merge_and_a_rename_applies(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    reviewed = plan_run(actions, models)
    # Merged before this one: a comment line above the entry, and the file renamed.
    (path,) = [
        p for p in models.glob("*.yaml") if f"id: {CHAT_ID}\n" in p.read_text(encoding="utf-8")
    ]
    (models / "chat.yaml").write_text(
        "# owned by the chat team\n" + path.read_text(encoding="utf-8"), encoding="utf-8"
    )
    path.unlink()

    run = merge_and_apply(actions, models)

    assert run.code == 0, run.log
    assert run.outputs["plan-digest"] == reviewed.outputs["plan-digest"]
    assert "applying the rest" not in run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536


def test_another_teams_unmanaged_entry_leaves_the_digest_alone(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    reviewed = plan_run(actions, models)
    other = {**live(registry, EMBED_ID), "id": "other-team:embed-v1", "modelId": "embed-v1"}
    other.pop("source", None)
    other.pop("immutable", None)
    created = httpx.post(
        f"{registry.url}/api/v1/llm/models/registry",
        json=other,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert created.status_code == 200, created.text

    run = merge_and_apply(actions, models)

    assert run.code == 0, run.log
    assert run.outputs["plan-digest"] == reviewed.outputs["plan-digest"]
    assert "applying the rest" not in run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert "other-team:embed-v1" in registry.entries()


# -- the comment's markup -------------------------------------------------------------


def test_a_400_create_comment_keeps_its_markup_and_its_footer_last(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    add_bulk_models(models, 400)

    run = plan_run(actions, models)

    (comment,) = plan_comments(github)
    body = comment["body"]
    assert len(body) <= 65536
    assert body.count("<details>") == body.count("</details>") > 0
    shown = body.count("will be created")
    left_out = 400 - shown
    assert left_out > 0
    assert (
        f"**Not shown:** {left_out} entries ({left_out} creates), to keep this comment "
        "within the size limit. The full plan is in the `registry-sync-plan-"
    ) in body
    assert "[this workflow run](https://github.example/acme/models/actions/runs/42)" in body
    # The footer comes after the last block, whole.
    footer = body.index("\n---\nPlanned at ")
    assert footer > body.rindex("</details>")
    assert body.endswith("the apply job refuses any other.\n")
    assert json.loads(actions.plan_file.read_text(encoding="utf-8"))["summary"]["create"] == 400
    assert run.summary == body
