"""``mode: apply``: after a merge, the plan the pull request showed is applied, what
is left of it after a partial apply is applied on a re-run, and anything else is
refused. The pull request's plan run, the merge and the push run against the local
registry and a fake GitHub API, both over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fake_github import BOT, FakeGitHub
from github_actions import (
    CHAT_ID,
    EMBED_ID,
    HEAD_SHA,
    MERGE_SHA,
    PR_NUMBER,
    ROUTER_ID,
    Actions,
    Run,
    edit_model,
)

from registry_sync.github import plan_digest, unreviewed
from registry_sync.github.review import read_marker
from registry_sync.testing import Fault, RegistryServer

# The fixtures the GitHub tests share (github, registry, models, actions).
pytest_plugins = ["github_fixtures"]


def review(actions: Actions, models: Path, *, upload: bool = True, code: int = 0) -> Run:
    """The pull request's plan run (run 42), its artifact, then the merge (``code``:
    the plan check's expected exit code; a merge can happen despite a red check)."""
    actions.run_id = "42"
    run = actions.run(models, upload=upload)
    assert run.code == code, run.log
    actions.github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    actions.run_id = "50"
    return run


def apply(actions: Actions, models: Path, **environ: Any) -> Run:
    return actions.run(
        models,
        event_name="push",
        mode="apply",
        inputs={"plan_workflow": "registry-plan.yml"},
        **environ,
    )


def replies(github: FakeGitHub) -> list[str]:
    return [
        c["body"]
        for c in github.comments.get(PR_NUMBER, [])
        if read_marker(c["body"], "apply") and c["user"]["login"] == BOT
    ]


def live(registry: RegistryServer, model_id: str) -> dict[str, Any]:
    definition: dict[str, Any] = registry.entries()[model_id]["definition"]
    return definition


def writes(registry: RegistryServer) -> list[str]:
    return [r.method for r in registry.requests() if r.method != "GET"]


def test_the_reviewed_plan_is_applied_and_reported_on_the_pull_request(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    reviewed = review(actions, models)
    run = apply(actions, models)
    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert run.outputs["result"] == "complete"
    assert run.outputs["plan-digest"] == reviewed.outputs["plan-digest"]
    # The comment is only a pointer: the run is checked and its artifact read.
    targets = [target for _, target in github.requests]
    assert "/repos/acme/models/actions/runs/42" in targets
    assert any(target.endswith("/zip") for target in targets)
    (reply,) = replies(github)
    assert f"### ✅ registry-sync applied: `models/` → `{registry.url}`" in reply
    assert f"Commit `{MERGE_SHA[:7]}`" in reply
    assert f"| `{CHAT_ID}` | update | ✅ done | updated |" in reply
    assert run.summary in reply


def test_verify_health_from_the_config_reports_an_unhealthy_entry_on_the_pull_request(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path, tmp_path: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    (tmp_path / "registry-sync.yaml").write_text("verify_health: true\n", encoding="utf-8")
    registry.set_unhealthy(CHAT_ID, "upstream answered 502")
    try:
        run = apply(actions, models)
    finally:
        registry.set_unhealthy(CHAT_ID, None)

    assert run.code == 4, run.log
    (reply,) = replies(github)
    assert "### ⚠️ registry-sync applied, but unhealthy:" in reply
    assert f"- `{CHAT_ID}`: upstream answered 502\n" in reply


def test_a_merged_tree_that_plans_something_else_is_refused(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    reviewed = review(actions, models)
    # What main holds after the merge differs from what the plan was made of.
    edit_model(models, CHAT_ID, contextWindow=131072)
    edit_model(models, EMBED_ID, displayName="Embeddings")
    registry.clear_requests()
    run = apply(actions, models)
    assert run.code == 1
    assert run.outputs["result"] == "refused"
    assert writes(registry) == []
    assert live(registry, CHAT_ID)["contextWindow"] == 32768
    (reply,) = replies(github)
    short = reviewed.outputs["plan-digest"].removeprefix("sha256:")[:12]
    now = run.outputs["plan-digest"].removeprefix("sha256:")[:12]
    for text in (reply, run.summary):
        assert "registry-sync apply refused" in text
        assert (
            f"the merged tree's plan (digest {now}) is not the plan shown on #{PR_NUMBER} "
            f"(digest {short}), nor what is left of it:"
        ) in text
        assert f"{EMBED_ID}: update was not in the reviewed plan" in text
        assert f"{CHAT_ID}: update differs from the reviewed update" in text
        assert "Nothing was applied. The way on: someone with write access comments" in text
    assert "::error title=registry-sync apply::apply refused" in run.log


def test_a_partial_apply_completes_on_a_re_run(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    edit_model(models, EMBED_ID, displayName="Embeddings")
    review(actions, models)
    registry.inject(Fault("status", method="PATCH", path_contains="embed-small", status=400))
    first = apply(actions, models)
    assert first.code == 3, first.log
    assert first.outputs["result"] == "incomplete"
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert "displayName" not in live(registry, EMBED_ID)
    (partial,) = replies(github)
    assert "⚠️ registry-sync apply incomplete" in partial
    assert f"| `{EMBED_ID}` | update | ❌ failed |" in partial
    assert "re-run this job" in partial

    # The re-run plans only what is left: not the reviewed digest, but every write
    # in it is one of the reviewed plan, read back from the pull request's artifact.
    second = apply(actions, models)
    assert second.code == 0, second.log
    assert live(registry, EMBED_ID)["displayName"] == "Embeddings"
    assert "applying the rest" in second.log
    assert any(target.endswith("/zip") for _, target in github.requests)
    assert f"| `{EMBED_ID}` | update | ✅ done | updated |" in replies(github)[1]


def test_a_re_run_that_plans_more_than_the_rest_is_refused(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    edit_model(models, ROUTER_ID, hidden=False)
    run = apply(actions, models)
    assert run.code == 1
    assert f"{ROUTER_ID}: update was not in the reviewed plan" in run.summary


def test_a_push_that_no_pull_request_merged_is_refused(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = apply(actions, models)
    assert run.code == 1
    assert f"commit {MERGE_SHA[:7]} was not made by merging a pull request" in run.summary
    assert writes(registry) == []
    assert github.comments == {}


def test_a_plan_comment_written_by_someone_else_is_not_a_review(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    (ours,) = github.comments[PR_NUMBER]
    ours["user"]["login"] = "mallory"  # the same body, marker and digest, another author
    run = apply(actions, models)
    assert run.code == 1
    assert (
        f"pull request #{PR_NUMBER} shows no plan for models/ → {registry.url} made by "
        ".github/workflows/registry-plan.yml"
    ) in run.log
    assert writes(registry) == []


def test_a_plan_of_an_earlier_head_commit_is_not_a_review(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    github.merge(MERGE_SHA, PR_NUMBER, "9" * 40)  # a later push was never planned
    run = apply(actions, models)
    assert run.code == 1
    assert (
        f"was made at {HEAD_SHA[:7]}, but the pull request merged at 9999999: its last "
        "commit was never planned"
    ) in run.summary
    assert writes(registry) == []


def test_a_comment_without_a_plan_is_not_a_review(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow="big")
    assert actions.run(models).code == 1  # invalid: the comment holds no plan
    github.merge(MERGE_SHA, PR_NUMBER, HEAD_SHA)
    actions.run_id = "50"
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = apply(actions, models)
    assert run.code == 1
    assert "shows no plan (invalid models, or none was made)" in run.summary


def test_an_artifact_that_is_not_the_reviewed_plan_is_refused(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    edit_model(models, EMBED_ID, displayName="Embeddings")
    reviewed = review(actions, models, upload=False)
    # An artifact whose plan would allow more than the comment showed.
    document = json.loads(actions.plan_file.read_text(encoding="utf-8"))
    document["actions"][0]["reason"] = "edited"
    name = reviewed.outputs["artifact-name"]
    github.upload("42", name, {"plan.json": json.dumps(document)})
    run = apply(actions, models)
    assert run.code == 1
    assert (
        f"the plan comment on #{PR_NUMBER} shows the digest "
        f"{reviewed.outputs['plan-digest'][7:19]}, but the plan run 42 made "
        f"{plan_digest(document)[7:19]}: the comment was changed, so it is not trusted"
    ) in run.summary
    assert writes(registry) == []


def test_a_missing_artifact_is_refused_with_the_reason(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    edit_model(models, EMBED_ID, displayName="Embeddings")
    review(actions, models, upload=False)
    run = apply(actions, models)
    assert run.code == 1
    assert "the reviewed plan cannot be read: downloading the artifact registry-sync-plan-" in (
        run.summary
    )
    assert "failed: it has none by that name" in run.summary
    assert writes(registry) == []


def test_a_merge_that_changes_nothing_applies_nothing(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    review(actions, models)
    run = apply(actions, models)
    assert run.code == 0, run.log
    assert "nothing to apply" in run.summary
    assert run.outputs["has-changes"] == "false"
    assert writes(registry) == []


def test_a_reply_that_cannot_be_posted_leaves_the_apply_green(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    github.read_only = True
    run = apply(actions, models)
    assert run.code == 0, run.log
    assert live(registry, CHAT_ID)["contextWindow"] == 65536
    assert f"commenting on pull request #{PR_NUMBER} failed; the result above stands" in run.log


def test_apply_needs_the_key(actions: Actions, models: Path) -> None:
    run = apply(actions, models, api_key=None)
    assert run.code == 1
    assert "mode apply needs the registry's API key in MKA1_API_KEY" in run.log


def test_apply_rails_refusal_is_reported_on_the_pull_request(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path, tmp_path: Path
) -> None:
    (tmp_path / "registry-sync.yaml").write_text(
        f"protect: ['{EMBED_ID}']\nprune: true\n", encoding="utf-8"
    )
    (models / "2.yaml").unlink()
    # The plan check fails already (the violation is judged at plan time); merged anyway,
    # apply refuses with the same reason.
    review(actions, models, code=1)
    run = apply(actions, models)
    assert run.code == 1
    (reply,) = replies(github)
    assert f"{EMBED_ID} is protected" in reply
    assert writes(registry) == []


# -- the comparison, on its own ----------------------------------------------------


def document(*actions: dict[str, Any], version: str = "0.1.0") -> dict[str, Any]:
    return {
        "format_version": "1",
        "tool": {"name": "registry-sync", "version": version},
        "registry": "https://r.example",
        "models_dir": "models",
        "prune": False,
        "actions": list(actions),
    }


UPDATE = {"id": "a", "action": "update", "patch": {"rpm": 1}, "live_fingerprint": "sha256:1"}
REPLACE = {"id": "b", "action": "replace", "body": {"id": "b"}, "live_fingerprint": "sha256:2"}
NO_OP = {"id": "c", "action": "no-op"}


def test_the_digest_is_of_the_canonical_plan_without_the_tool_version() -> None:
    reordered = dict(reversed(list(document(UPDATE).items())))
    assert plan_digest(reordered) == plan_digest(document(UPDATE, version="9.9.9"))
    assert plan_digest(document(UPDATE)) != plan_digest(document(UPDATE, REPLACE))
    assert plan_digest(document(UPDATE)) != plan_digest({**document(UPDATE), "prune": True})
    assert plan_digest(document(UPDATE)) != plan_digest(
        document({**UPDATE, "live_fingerprint": "sha256:9"})
    )


def test_the_digest_covers_what_is_written_not_where_it_was_declared() -> None:
    here = {**UPDATE, "file": "models/a.yaml", "line": 3, "changes": [{"path": "rpm"}]}
    moved = {
        **UPDATE,
        "file": "models/renamed/a.yaml",
        "line": 4,
        "changes": [{"path": "rpm", "origin": "overlays/x.yaml:2"}],
    }
    unmanaged = {"id": "other-team:x", "action": "unmanaged", "file": None, "line": None}
    assert plan_digest(document(here)) == plan_digest(document(moved))
    assert plan_digest(document(here)) == plan_digest(
        {
            **document(here, NO_OP, unmanaged),
            "summary": {"unmanaged": 1},
            "untargeted": 1,
            "violations": [],
        }
    )
    assert unreviewed(document(moved), document(here)) == []
    # A conflict writes nothing but blocks apply: it takes part.
    conflict = {"id": "d", "action": "read-only", "conflict": True}
    assert plan_digest(document(here, conflict)) != plan_digest(document(here))


def test_live_health_takes_no_part_in_the_digest_or_the_review() -> None:
    down = {"is_available": False, "last_health_check": 1, "error": "502"}
    observed = document({**UPDATE, "live_health": down})

    assert plan_digest(observed) == plan_digest(document({**UPDATE, "live_health": None}))
    assert unreviewed(observed, document(UPDATE)) == []


def test_what_is_left_of_a_reviewed_plan_passes_and_nothing_else() -> None:
    reviewed = document(UPDATE, REPLACE, NO_OP)
    assert unreviewed(document(UPDATE), reviewed) == []
    assert unreviewed(document(NO_OP), reviewed) == []
    # The delete of a replace landed, its create did not.
    create = {"id": "b", "action": "create", "body": {"id": "b"}, "live_fingerprint": None}
    assert unreviewed(document(create), reviewed) == []
    assert unreviewed(document({**create, "body": {"id": "b", "x": 1}}), reviewed) == [
        "b: create differs from the reviewed replace"
    ]
    assert unreviewed(document({**UPDATE, "patch": {"rpm": 2}}), reviewed) == [
        "a: update differs from the reviewed update"
    ]
    assert unreviewed(document({**NO_OP, "action": "delete"}), reviewed) == [
        "c: delete was not in the reviewed plan"
    ]
    assert unreviewed({**document(UPDATE), "prune": True}, reviewed) == [
        "prune: true here, false when reviewed"
    ]


def test_a_pull_request_that_only_contains_the_commit_is_not_its_merge(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    review(actions, models)
    # An open pull request, and one merged into another commit, both listed for it.
    (merged,) = github.pulls[MERGE_SHA]
    github.pulls[MERGE_SHA] = [
        {**merged, "merged_at": None},
        {**merged, "merge_commit_sha": "1" * 40},
    ]
    run = apply(actions, models)
    assert run.code == 1
    assert f"commit {MERGE_SHA[:7]} was not made by merging a pull request" in run.summary
    assert writes(registry) == []
