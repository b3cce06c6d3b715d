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
from collections.abc import Mapping, Sequence
from typing import Any

from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.github.inputs import ActionOptions
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
from registry_sync.github.workflow import ActionLog, ActionsContext
from registry_sync.render.markdown import code_span, escape_text

__all__ = ["run"]

APPLY_KIND = "apply"
_AGAIN = (
    "Nothing was applied. The way on is a new pull request (an empty commit is "
    "enough): its plan shows what the main branch holds and the registry lacks, and "
    "merging it once reviewed applies that."
)
_ICONS = {"done": "✅", "failed": "❌", "skipped": "⏭️"}


def run(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    """Apply what was reviewed on the merged pull request; returns the exit code."""
    if not context.sha:
        raise ConfigError("GITHUB_SHA is not set: mode apply runs on a push to the main branch")
    if context.token is None:
        raise ConfigError(
            "mode apply needs GITHUB_TOKEN to read the merged pull request and its plan "
            "comment (permissions: pull-requests: write, actions: read)"
        )
    require_api_key(options, environ, "mode apply")
    project = project_key(options, context.workspace)
    problems = validate(options.models_dir, context.workspace, log, environment_config(options))
    if problems:
        log.summary(
            f"### ❌ Not applied\n\n{code_span(str(options.models_dir) + '/')} is invalid "
            f"on {code_span(context.sha[:7])}: {len(problems)} problems (see the annotations)."
        )
        log.output("result", "invalid")
        return EXIT_ERROR
    with context.client() as github:
        pull = github.merged_pull_request(context.sha)
        if pull is None:
            return _refuse(
                log,
                context,
                project,
                None,
                [
                    f"commit {context.sha[:7]} was not made by merging a pull request, so no "
                    "plan of it was reviewed"
                ],
            )
        number = int(pull["number"])
        try:
            reviewed = reviewed_plan(github, pull, project, options, context)
            run_ = plan(
                options,
                environ,
                log,
                artifact_hint=artifact_hint(artifact_name(options, project), context),
            )
            if run_.document is None:
                log.summary(f"### ❌ The plan failed\n\n```text\n{run_.errors.strip()}\n```\n")
                log.output("result", "error")
                return EXIT_ERROR
            plan_outputs(options, run_, log)
            if not run_.changed_ids:
                log.line("Nothing to apply: the registry already matches the merged tree.")
                log.summary(
                    f"### ✅ Nothing to apply\n\nThe registry {code_span(project.registry)} "
                    f"already matches {code_span(project.models_dir + '/')}.\n"
                )
                return EXIT_OK
            if run_.digest != reviewed.digest:
                _check_remainder(reviewed, run_.document, str(run_.digest), number)
                log.line(
                    "The plan is what is left of the reviewed plan (an earlier apply "
                    "stopped part-way): applying the rest."
                )
        except Refusal as refusal:
            return _refuse(log, context, project, number, refusal.reasons)
    return _apply(options, context, environ, log, project, number)


def _check_remainder(
    reviewed: ReviewedPlan, document: Mapping[str, Any], digest: str, number: int
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


def _refuse(
    log: ActionLog,
    context: ActionsContext,
    project: ProjectKey,
    number: int | None,
    reasons: Sequence[str],
) -> int:
    listed = "\n".join(f"- {escape_text(reason)}" for reason in reasons)
    markdown = (
        f"### ❌ registry-sync apply refused: {_project(project)}\n\n"
        f"Commit {code_span(context.sha[:7])}:\n\n{listed}\n\n{_AGAIN}\n"
    )
    log.annotate(
        "error", "apply refused: " + " ".join(reasons) + " " + _AGAIN, title="registry-sync apply"
    )
    log.summary(markdown)
    log.output("result", "refused")
    if number is not None:
        _reply(context, log, project, number, markdown)
    return EXIT_ERROR


def _apply(
    options: ActionOptions,
    context: ActionsContext,
    environ: Mapping[str, str],
    log: ActionLog,
    project: ProjectKey,
    number: int,
) -> int:
    arguments = [
        "apply",
        str(options.plan_file),
        *settings_arguments(options),
        "--auto-approve",
        "--format",
        "json",
    ]
    with log.group("registry-sync apply"):
        completed = registry_sync(arguments, environ)
        log.untrusted(completed.stderr)
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        # A refusal (rails, stale plan) prints no document, only the error.
        error = completed.stderr.strip() or f"apply exited {completed.returncode}"
        return _refuse(log, context, project, number, [error])
    markdown = _result_markdown(result, project, context)
    log.untrusted(markdown)
    log.summary(markdown)
    log.output("result", str(result.get("outcome")))
    _reply(context, log, project, number, markdown)
    return completed.returncode


def _result_markdown(
    result: Mapping[str, Any], project: ProjectKey, context: ActionsContext
) -> str:
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
        f"### {title}: {_project(project)}\n\nCommit {code_span(context.sha[:7])}"
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


def _reply(
    context: ActionsContext, log: ActionLog, project: ProjectKey, number: int, markdown: str
) -> None:
    body = f"{marker(APPLY_KIND, {'project': project.text, 'commit': context.sha})}\n{markdown}"
    write_to_github(
        context,
        log,
        f"commenting on pull request #{number}",
        lambda client: client.comment(number, body),
    )


def _project(project: ProjectKey) -> str:
    return f"{code_span(project.folder)} → {code_span(project.registry)}"
