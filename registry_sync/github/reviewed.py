"""The plan a merged pull request's reviewers saw, found and checked through the API.

The plan comment is only a pointer: its hidden marker names the run that made the
plan. What apply trusts is that run, as GitHub reports it, and its artifact:

1. Comments by the token's identity carrying this project's marker, newest first;
   one whose run is not a run of the plan workflow in this repository is a
   look-alike (another workflow writing as the same bot) and is passed over.
2. The run's head commit is the pull request's last head commit (for a
   ``pull_request_target`` run, whose head is the base branch's, the head the
   comment names), and the run had completed before the pull request was merged
   (``updated_at`` of the run, at the latest ``merged_at``): a plan finished after
   the merge was never reviewed.
3. The comment was last changed no later than its run: the plan job writes it
   during the run, so a later ``updated_at`` is an edit by someone else (GitHub's
   REST comment names no editor; the time is what it does give).
4. The reviewed plan is the run's artifact, read every time; its digest must be the
   one the comment shows.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry_sync.errors import ConfigError
from registry_sync.github.api import GitHubClient, GitHubError
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.review import ProjectKey, is_marked, plan_digest, read_marker
from registry_sync.github.steps import artifact_name
from registry_sync.github.workflow import PULL_REQUEST_EVENTS, ActionsContext

__all__ = [
    "PLAN_KIND",
    "Refusal",
    "ReviewedPlan",
    "artifact_plan",
    "plan_workflow",
    "reviewed_plan",
]

PLAN_KIND = "plan"
_WORKFLOWS = ".github/workflows/"


class Refusal(Exception):
    """Why the merged tree's plan is not the reviewed one; each reason one line."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


@dataclass(frozen=True)
class ReviewedPlan:
    """The reviewed JSON plan, its digest and the run that made it."""

    document: dict[str, Any]
    digest: str
    run_id: str


def plan_workflow(options: ActionOptions, context: ActionsContext) -> str:
    """The workflow file whose runs make reviewed plans: the plan-workflow input
    (a file name is taken from ``.github/workflows/``), else this run's own."""
    name = options.plan_workflow or context.workflow
    if not name:
        raise ConfigError(
            "mode apply cannot tell which workflow plans pull requests: set the "
            "plan-workflow input (for example registry-plan.yml)"
        )
    return name if "/" in name else _WORKFLOWS + name


def reviewed_plan(
    github: GitHubClient,
    pull: Mapping[str, Any],
    project: ProjectKey,
    options: ActionOptions,
    context: ActionsContext,
) -> ReviewedPlan:
    """The plan shown on the merged pull request ``pull``, read from its run's
    artifact once every check above holds; raises :class:`Refusal` otherwise."""
    number = pull["number"]
    workflow = plan_workflow(options, context)
    comment, run = _ours(github, number, project, workflow, context.repository)
    data = read_marker(str(comment.get("body", "")), PLAN_KIND) or {}
    digest = data.get("digest")
    if not isinstance(digest, str):
        raise Refusal(
            [f"the plan comment on #{number} shows no plan (invalid models, or none was made)"]
        )
    run_id = str(run.get("id"))
    head = pull.get("head")
    head_sha = head.get("sha") if isinstance(head, dict) else None
    # A pull_request run's head is the pull request's; a pull_request_target run's
    # is the base branch's, so there the marker of the (unedited) comment says it.
    made_at = run.get("head_sha") if run.get("event") == "pull_request" else data.get("head")
    if made_at != head_sha or data.get("head") != head_sha:
        raise Refusal(
            [
                f"the plan shown on #{number} was made at {str(made_at)[:7]}, but "
                f"the pull request merged at {str(head_sha)[:7]}: its last commit was never "
                "planned"
            ]
        )
    finished, merged = _time(run.get("updated_at")), _time(pull.get("merged_at"))
    if run.get("status") != "completed" or finished is None or merged is None or finished > merged:
        raise Refusal(
            [
                f"the plan run {run_id} finished {_when(run)} but #{number} was merged at "
                f"{pull.get('merged_at')}: a plan finished after the merge was never reviewed"
            ]
        )
    edited = _time(comment.get("updated_at"))
    if edited is None or edited > finished:
        raise Refusal(
            [
                f"the plan comment on #{number} was changed at {comment.get('updated_at')}, "
                f"after its run {run_id} finished at {run.get('updated_at')}: someone other "
                "than the plan job edited it, so it is not trusted"
            ]
        )
    # The name the plan job gave it (its artifact-name input may differ from apply's).
    name = data.get("artifact")
    document = artifact_plan(
        github, run_id, name if isinstance(name, str) else artifact_name(options, project)
    )
    found = plan_digest(document)
    if found != digest:
        raise Refusal(
            [
                f"the plan comment on #{number} shows the digest {digest[7:19]}, but the "
                f"plan run {run_id} made {found[7:19]}: the comment was changed, so it is "
                "not trusted"
            ]
        )
    return ReviewedPlan(document, digest, run_id)


def _ours(
    github: GitHubClient, number: int, project: ProjectKey, workflow: str, repository: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest plan comment of ``project`` on ``number`` whose run is a run of
    ``workflow`` on a pull request of ``repository``, with that run."""
    comments = github.find_comments(number, lambda body: is_marked(body, PLAN_KIND, project))
    for comment in reversed(comments):
        data = read_marker(str(comment.get("body", "")), PLAN_KIND) or {}
        if not isinstance(data.get("run"), (str, int)):
            continue
        run = github.workflow_run(str(data["run"]))
        if run is not None and _made_by(run, workflow, repository):
            return comment, run
    raise Refusal([f"pull request #{number} shows no plan for {project.text} made by {workflow}"])


def _made_by(run: Mapping[str, Any], workflow: str, repository: str) -> bool:
    repo = run.get("repository")
    return (
        str(run.get("path", "")).split("@", 1)[0] == workflow
        and run.get("event") in PULL_REQUEST_EVENTS
        and isinstance(repo, dict)
        and repo.get("full_name") == repository
    )


def artifact_plan(github: GitHubClient, run_id: str, name: str) -> dict[str, Any]:
    """The JSON plan in artifact ``name`` of run ``run_id``."""
    try:
        archive = github.artifact(run_id, name)
    except GitHubError as exc:
        raise Refusal(
            [
                f"the reviewed plan cannot be read: {exc}. Apply reads it from the plan "
                "run's artifact every time, and nothing else stands for it"
            ]
        ) from exc
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            (member,) = [n for n in bundle.namelist() if n.endswith(".json")]
            document = json.loads(bundle.read(member).decode("utf-8"))
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError) as exc:
        raise Refusal(
            [f"the artifact {name} of run {run_id} does not hold one JSON plan: {exc}"]
        ) from exc
    if not isinstance(document, dict):
        raise Refusal([f"the artifact {name} of run {run_id} does not hold one JSON plan"])
    return document


def _when(run: Mapping[str, Any]) -> str:
    if run.get("status") != "completed":
        return f"not at all (it is {run.get('status')})"
    return f"at {run.get('updated_at')}"


def _time(value: object) -> datetime.datetime | None:
    """A GitHub timestamp (``2026-12-02T05:00:00Z``); None when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        # Python 3.10's fromisoformat does not read the Z suffix.
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
