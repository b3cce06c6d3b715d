"""``mode: drift`` (schedule): does the registry still match the main branch?

Validate; ``plan --detailed-exitcode``; name the drifted entries in the summary and
an ``::error::`` annotation. The exit code is the plan's: 0 no drift, 2 drift, 1
error or read-only conflict.

Drift is also an issue, one per project, found again by its author (the token's
identity) and hidden marker: opened when drift appears (the title names the
registry, the body holds the plan, rendered within GitHub's limit), updated while
it persists, closed with a comment once it is gone. An issue that cannot be written is a warning.
With ``drift-pull-request``, a pull request accepting the drift sits beside it
(:mod:`registry_sync.github.accept`).
"""

from __future__ import annotations

from collections.abc import Mapping

from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.github.accept import accept_drift, close_accepting
from registry_sync.github.api import GitHubClient
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.review import ProjectKey, is_marked, marker
from registry_sync.github.steps import (
    PlanRun,
    artifact_hint,
    artifact_name,
    environment_config,
    plan,
    plan_markdown,
    plan_outputs,
    project_key,
    require_api_key,
    validate,
    write_to_github,
)
from registry_sync.github.workflow import ActionLog, ActionsContext
from registry_sync.render.markdown import code_span, escape_text

__all__ = ["DRIFT_KIND", "run"]

DRIFT_KIND = "drift"


def run(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    """Check for drift; keep the project's drift issue in step; returns the exit code."""
    problems = validate(
        options.models_dir, context.workspace, log, environment_config(options), options.limits
    )
    if problems:
        log.summary(
            f"### ❌ {code_span(str(options.models_dir) + '/')} is invalid: "
            f"{len(problems)} problems (see the annotations).\n"
        )
        log.output("result", "invalid")
        return EXIT_ERROR
    require_api_key(options, environ, "drift detection")
    project = project_key(options, context.workspace)
    hint = artifact_hint(artifact_name(options, project), context)
    run_ = plan(options, environ, log, artifact_hint=hint, detailed=True)
    if run_.document is None:
        log.summary(f"### ❌ The plan failed\n\n```text\n{run_.errors.strip()}\n```\n")
        log.output("result", "error")
        return EXIT_ERROR
    plan_outputs(options, run_, log)
    down = _unhealthy_section(run_)
    if down:
        log.annotate(
            "warning",
            "unavailable in the registry now: " + ", ".join(i for i, _ in run_.unhealthy),
            title="registry-sync: unhealthy models",
        )
    drifted = run_.changed_ids
    folder = project.folder
    where = folder + (f" on {context.ref_name}" if context.ref_name else "")
    where_markdown = code_span(folder) + (
        f" on {code_span(context.ref_name)}" if context.ref_name else ""
    )
    if not drifted:
        log.line(f"No drift: the registry matches {where}.")
        log.summary(f"### ✅ No drift\n\nThe registry matches {where_markdown}.\n{down}")
        _close_issue(context, log, project)
        if options.drift_pull_request:
            close_accepting(context, log, project)
        return EXIT_OK
    count = len(drifted)
    noun = "entry differs" if count == 1 else "entries differ"
    log.annotate(
        "error",
        f"{count} registry {noun} from {where}: {', '.join(drifted)}",
        title="registry-sync: drift",
    )
    listed = "\n".join(f"- {code_span(entry)}" for entry in drifted)
    headline = f"### ❌ Drift: {count} registry {noun} from {where_markdown}\n\n{listed}\n\n"
    headline += f"{down}\n" if down else ""
    log.summary(headline + run_.markdown)
    seen = f"Last seen by [run {context.run_id}]({context.run_url}).\n\n" if context.run_url else ""
    top = f"{marker(DRIFT_KIND, {'project': project.text})}\n{headline}{seen}".rstrip()
    issue = _open_or_update_issue(
        context, log, project, plan_markdown(options, top=top, artifact_hint=hint)
    )
    if options.drift_pull_request and issue is not None:
        accepting = accept_drift(options, context, environ, log, project, issue)
        if accepting is not None:
            link = (
                f"**Accept it:** #{accepting.get('number')} writes what the registry holds "
                "into the files (`registry-sync pull`); merging it closes this issue."
            )
            body = plan_markdown(options, top=top, artifact_hint=hint, footer=link)
            _open_or_update_issue(context, log, project, body)
    return run_.returncode


def _unhealthy_section(run_: PlanRun) -> str:
    """Markdown listing the declared models the registry reports unavailable (from
    the list's health, no probe), empty when none is."""
    if not run_.unhealthy:
        return ""
    rows = "\n".join(f"- {code_span(i)}: {escape_text(error)}" for i, error in run_.unhealthy)
    return f"\n#### ⚠️ Unhealthy now ({len(run_.unhealthy)})\n\n{rows}\n"


def _open_or_update_issue(
    context: ActionsContext, log: ActionLog, project: ProjectKey, body: str
) -> int | None:
    """Open the project's drift issue or update it; returns its number, None when it
    could not be written."""
    title = f"Registry drift: {project.registry} differs from {project.models_dir}/"
    numbers: list[int] = []

    def upsert(client: GitHubClient) -> str | None:
        issue = client.find_issue(lambda text: is_marked(text, DRIFT_KIND, project))
        if issue is None:
            opened = client.open_issue(title, body)
            numbers.append(int(opened.get("number") or 0))
            log.line(f"Drift issue opened: {opened.get('html_url', '')}")
            return None
        numbers.append(int(issue["number"]))
        client.edit_issue(int(issue["number"]), {"title": title, "body": body})
        log.line(f"Drift issue updated: {issue.get('html_url', '')}")
        return None

    write_to_github(context, log, "updating the drift issue", upsert)
    return numbers[-1] if numbers else None


def _close_issue(context: ActionsContext, log: ActionLog, project: ProjectKey) -> None:
    def close(client: GitHubClient) -> str | None:
        issue = client.find_issue(lambda text: is_marked(text, DRIFT_KIND, project))
        if issue is None:
            return None
        number = int(issue["number"])
        ran = f" ([run {context.run_id}]({context.run_url}))" if context.run_url else ""
        client.issue_comment(
            number, f"✅ No drift any more: the registry matches the files{ran}. Closing."
        )
        client.edit_issue(number, {"state": "closed", "state_reason": "completed"})
        log.line(f"Drift issue closed: {issue.get('html_url', '')}")
        return None

    write_to_github(context, log, "closing the drift issue", close)
