"""``mode: apply``: after a merge, apply the plan the pull request showed, or nothing.

On a push to the main branch it finds the pull request whose merge made the pushed
commit (``GITHUB_SHA``) and reads the plan its reviewers saw from the plan run's
artifact, after checking that run and the comment pointing at it through the API
(:mod:`registry_sync.github.reviewed`). Then it plans the merged tree:

- the reviewed plan's digest: applied;
- another digest: applied only if every write in it is identical to one of the
  reviewed plan, which is what is left of it after a partial apply (exit 3);
- anything else is refused (exit 1), with the entries that differ, on the pull
  request and in the job summary.

The apply itself is ``registry-sync apply PLAN --auto-approve --format json`` on the
plan just made (its fingerprints are the registry's as it now is); the result, one
line per entry, goes to the job summary and as a comment on the merged pull request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_UNHEALTHY
from registry_sync.github.api import GitHubClient
from registry_sync.github.catchup import APPLY_KIND, Pending, pending_pulls
from registry_sync.github.gates import missing_approval
from registry_sync.github.git import tree_at
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.replan import replanned
from registry_sync.github.review import ProjectKey, marker, short_digest, unreviewed
from registry_sync.github.reviewed import Refusal, ReviewedPlan, reviewed_plan
from registry_sync.github.steps import (
    artifact_hint,
    artifact_name,
    environment_config,
    plan,
    plan_outputs,
    project_key,
    registry_sync,
    require_api_key,
    settings_arguments,
    validate,
    write_to_github,
)
from registry_sync.github.workflow import ActionLog, ActionsContext, CommentCommand
from registry_sync.render.markdown import code_span, escape_text

__all__ = ["run"]

_FETCH = (
    "an apply run plans each merged pull request's own tree: check out with "
    "actions/checkout and fetch-depth: 0, so that the commits since the last "
    "successful apply are there"
)
# Exit codes from the least to the most severe.
_SEVERITY = (EXIT_OK, EXIT_UNHEALTHY, EXIT_PARTIAL, EXIT_ERROR)
_AGAIN = (
    "Nothing was applied. The way on: someone with write access comments "
    "`/registry-sync plan` on this pull request for a fresh plan to approve, or a new "
    "pull request (an empty commit is enough) shows what the main branch holds and "
    "the registry lacks, and merging it once reviewed applies that."
)
_ICONS = {"done": "✅", "failed": "❌", "skipped": "⏭️"}


@dataclass(frozen=True)
class _Job:
    """What every step of one apply run shares."""

    options: ActionOptions
    context: ActionsContext
    environ: Mapping[str, str]
    log: ActionLog
    project: ProjectKey


@dataclass(frozen=True)
class _Merge:
    """One merged pull request being applied: its number, its merge commit and the
    folder its tree is planned in (None: the checkout, for ``GITHUB_SHA``)."""

    number: int | None
    commit: str
    cwd: Path | None = None


def run(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    """Apply what was reviewed on every pull request merged since the last successful
    apply, in merge order; returns the exit code (the worst of them)."""
    if not context.sha:
        raise ConfigError("GITHUB_SHA is not set: mode apply runs on a push to the main branch")
    if context.token is None:
        raise ConfigError(
            "mode apply needs GITHUB_TOKEN to read the merged pull request and its plan "
            "comment (permissions: pull-requests: write, actions: read)"
        )
    require_api_key(options, environ, "mode apply")
    job = _Job(options, context, environ, log, project_key(options, context.workspace))
    problems = validate(
        options.models_dir, context.workspace, log, environment_config(options), options.limits
    )
    if problems:
        log.summary(
            f"### ❌ Not applied\n\n{code_span(str(options.models_dir) + '/')} is invalid "
            f"on {code_span(context.sha[:7])}: {len(problems)} problems (see the annotations)."
        )
        log.output("result", "invalid")
        return EXIT_ERROR
    with context.client() as github:
        if context.command is not None:
            return _apply_replan(job, github, context.command)
        tip = github.merged_pull_request(context.sha)
        if tip is None:
            reason = (
                f"commit {context.sha[:7]} was not made by merging a pull request, so no "
                "plan of it was reviewed"
            )
            return _refuse(job, _Merge(None, context.sha), [reason])
        pending = pending_pulls(github, context, job.project, tip)
        if pending.note:
            log.annotate("warning", pending.note, title="registry-sync apply")
        return _apply_all(job, github, pending)


def _apply_all(job: _Job, github: GitHubClient, pending: Pending) -> int:
    """Each pending pull request in merge order, each told its result; stops after
    an apply that left the registry partly changed (the rest wait for a re-run)."""
    codes, results = [], []
    for number, result in pending.told:
        job.log.line(f"#{number} was applied already or refused (told: {result}): passed over.")
        if number == pending.tip:
            codes.append(EXIT_ERROR if result == "refused" else EXIT_OK)
            results.append(result)
    for pull in pending.pulls:
        commit = str(pull["merge_commit_sha"])
        try:
            with _tree(job.context, commit) as cwd:
                merge = _Merge(int(pull["number"]), commit, cwd)
                code, result = _one(job, merge, partial(_reviewed, job, github, pull))
        except ConfigError as exc:
            reasons = [f"the tree of {commit[:7]} cannot be planned: {exc}", _FETCH]
            code, result = _refuse(job, _Merge(int(pull["number"]), commit), reasons), "refused"
        codes.append(code)
        results.append(result)
        if result in ("incomplete", "interrupted"):
            break
    job.log.output("result", _overall(results))
    return max(codes, key=_severity) if codes else EXIT_OK


def _severity(code: int) -> int:
    return _SEVERITY.index(code) if code in _SEVERITY else len(_SEVERITY)


def _one(job: _Job, merge: _Merge, reviewed_for: Callable[[], ReviewedPlan]) -> tuple[int, str]:
    """Check one merged pull request's tree against its reviewed plan (found by
    ``reviewed_for``) and apply it."""
    options, context, log, project = job.options, job.context, job.log, job.project
    try:
        reviewed = reviewed_for()
        run_ = plan(
            options,
            job.environ,
            log,
            artifact_hint=artifact_hint(artifact_name(options, project), context),
            cwd=merge.cwd,
        )
        if run_.document is None:
            log.summary(f"### ❌ The plan failed\n\n```text\n{run_.errors.strip()}\n```\n")
            return EXIT_ERROR, "error"
        plan_outputs(options, run_, log)
        if not run_.changed_ids:
            log.line(f"Nothing to apply for #{merge.number}: the registry already matches it.")
            markdown = (
                f"### ✅ registry-sync: nothing to apply: {_project(project)}\n\nCommit "
                f"{code_span(merge.commit[:7])}: the registry already matches "
                f"{code_span(project.folder)}.\n"
            )
            log.summary(markdown)
            _reply(job, merge, markdown, "no-changes")
            return EXIT_OK, "no-changes"
        if run_.digest != reviewed.digest:
            _check_remainder(reviewed, run_.document, str(run_.digest), merge.number)
            log.line(
                "The plan is what is left of the reviewed plan (an earlier apply "
                "stopped part-way): applying the rest."
            )
    except Refusal as refusal:
        return _refuse(job, merge, refusal.reasons), "refused"
    return _apply(job, merge)


def _reviewed(job: _Job, github: GitHubClient, pull: Mapping[str, Any]) -> ReviewedPlan:
    """The plan reviewed on merged pull request ``pull``; with require-approval, it
    must also have been approved."""
    reviewed = reviewed_plan(github, pull, job.project, job.options, job.context)
    if job.options.require_approval and (missing := missing_approval(github, pull)):
        raise Refusal(missing)
    return reviewed


def _apply_replan(job: _Job, github: GitHubClient, command: CommentCommand) -> int:
    """The apply job of a /registry-sync plan run: the re-plan it posted, or nothing."""
    merge = _Merge(command.number, job.context.sha)
    code, result = _one(
        job, merge, partial(replanned, github, command.number, job.project, job.context)
    )
    job.log.output("result", result)
    return code


@contextmanager
def _tree(context: ActionsContext, commit: str) -> Iterator[Path | None]:
    """Where to plan ``commit``: the checkout for ``GITHUB_SHA``, else the same
    folder in a worktree of that commit."""
    if commit == context.sha:
        yield None
        return
    root = (context.workspace or Path.cwd()).resolve()
    here = Path.cwd().resolve().relative_to(root)
    with tree_at(root, commit) as folder:
        yield folder / here


def _overall(results: Sequence[str]) -> str:
    for worst in ("refused", "error", "interrupted", "incomplete"):
        if worst in results:
            return worst
    return results[-1] if results else "no-changes"


def _check_remainder(
    reviewed: ReviewedPlan, document: Mapping[str, Any], digest: str, number: int | None
) -> None:
    """Refuse unless ``document`` is what is left of the reviewed plan."""
    reasons = unreviewed(document, reviewed.document)
    if reasons:
        raise Refusal(
            [
                f"the merged tree's plan (digest {short_digest(digest)}) is not the plan "
                f"shown on #{number} (digest {short_digest(reviewed.digest)}), nor what is "
                "left of it:",
                *reasons,
            ]
        )


def _refuse(job: _Job, merge: _Merge, reasons: Sequence[str]) -> int:
    listed = "\n".join(f"- {escape_text(reason)}" for reason in reasons)
    markdown = (
        f"### ❌ registry-sync apply refused: {_project(job.project)}\n\n"
        f"Commit {code_span(merge.commit[:7])}:\n\n{listed}\n\n{_AGAIN}\n"
    )
    job.log.annotate(
        "error", "apply refused: " + " ".join(reasons) + " " + _AGAIN, title="registry-sync apply"
    )
    job.log.summary(markdown)
    job.log.output("result", "refused")
    if merge.number is not None:
        _reply(job, merge, markdown, "refused")
    return EXIT_ERROR


def _apply(job: _Job, merge: _Merge) -> tuple[int, str]:
    arguments = [
        "apply",
        str(job.options.plan_file.absolute()),
        *settings_arguments(job.options),
        "--auto-approve",
        "--format",
        "json",
    ]
    with job.log.group("registry-sync apply"):
        completed = registry_sync(arguments, job.environ, merge.cwd)
        job.log.untrusted(completed.stderr)
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        # A refusal (rails, stale plan) prints no document, only the error.
        error = completed.stderr.strip() or f"apply exited {completed.returncode}"
        return _refuse(job, merge, [error]), "refused"
    outcome = str(result.get("outcome"))
    markdown = _result_markdown(result, job, merge)
    job.log.untrusted(markdown)
    job.log.summary(markdown)
    _reply(job, merge, markdown, outcome)
    return completed.returncode, outcome


def _result_markdown(result: Mapping[str, Any], job: _Job, merge: _Merge) -> str:
    project, context = job.project, job.context
    outcome = result.get("outcome")
    title = {
        "complete": "✅ registry-sync applied",
        "no-changes": "✅ registry-sync: nothing to apply",
    }.get(str(outcome), "⚠️ registry-sync apply incomplete")
    rows = [
        f"| {code_span(str(entry.get('id')))} | {entry.get('action')} | "
        f"{_ICONS.get(str(entry.get('outcome')), '')} {entry.get('outcome')} | "
        f"{escape_text(str(entry.get('detail', '')))} |"
        for entry in result.get("entries", [])
        if isinstance(entry, dict)
    ]
    table = "| entry | action | result | detail |\n|---|---|---|---|\n" + "\n".join(rows)
    down = _unhealthy_lines(result)
    if down and outcome == "complete":
        title = "⚠️ registry-sync applied, but unhealthy"
    tail = f"\n**Unhealthy after apply:**\n\n{down}\n" if down else ""
    if outcome not in ("complete", "no-changes"):
        tail = (
            "\n\nThe registry is partly changed. Fix the cause and re-run this job: it "
            "plans again and applies what is left, which must be part of the reviewed plan.\n"
        ) + tail
    return (
        f"### {title}: {_project(project)}\n\nCommit {code_span(merge.commit[:7])}"
        f"{f' ([run {context.run_id}]({context.run_url}))' if context.run_url else ''}.\n\n"
        f"{table}\n{tail}"
    )


def _unhealthy_lines(result: Mapping[str, Any]) -> str:
    """A Markdown list of the entries ``--verify-health`` found unhealthy."""
    lines = []
    for item in result.get("health") or []:
        if not isinstance(item, dict) or item.get("state") != "unhealthy":
            continue
        rollback = item.get("rollback")
        undone = ""
        if isinstance(rollback, dict):
            undone = " (rolled back)" if rollback.get("succeeded") else " (rollback FAILED)"
        error = escape_text(str(item.get("error") or ""))
        lines.append(f"- {code_span(str(item.get('id')))}: {error}{undone}")
    return "\n".join(lines)


def _reply(job: _Job, merge: _Merge, markdown: str, result: str) -> None:
    """The result on the pull request; its marker's ``result`` says whether a later
    run takes it up again (:mod:`registry_sync.github.catchup`)."""
    number = merge.number
    if number is None:
        return
    data = {"project": job.project.text, "commit": merge.commit, "result": result}
    body = f"{marker(APPLY_KIND, data)}\n{markdown}"
    write_to_github(
        job.context,
        job.log,
        f"commenting on pull request #{number}",
        lambda client: client.comment(number, body),
    )


def _project(project: ProjectKey) -> str:
    return f"{code_span(project.folder)} → {code_span(project.registry)}"
