"""The way out when the main branch moved: ``/registry-sync plan`` on a merged pull
request, answered by a fresh plan that applies only once someone approves it.

A merged pull request whose apply was refused (main moved between its plan and its
merge, or its artifact expired) cannot be re-planned by re-running its plan job:
GitHub re-runs keep the old merge commit, and a plan finished after the merge is
never taken for the reviewed one. Instead, someone with write access comments
``/registry-sync plan`` on it. The workflow of that comment (``issue_comment``):

1. its plan job (``mode: auto``) plans the main branch as it is now (the event's
   ``GITHUB_SHA``) and posts the plan as a **new** comment on the pull request,
   marked as a re-plan of this run, naming who asked; the JSON plan is the run's
   artifact;
2. its apply job (``mode: apply``, in the apply environment, whose required
   reviewers approve the deployment after reading that comment) plans the same
   commit again and applies only if it is that re-plan (or what is left of it),
   read from this run's artifact; the comment must be as the plan job wrote it
   (never edited).

Nothing is re-planned silently: the fresh plan is on the pull request before anyone
approves, and without the command nothing happens.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.github.api import GitHubClient
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.review import ProjectKey, is_marked, marker, plan_digest, read_marker
from registry_sync.github.reviewed import PLAN_KIND, Refusal, ReviewedPlan, artifact_plan
from registry_sync.github.steps import (
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
from registry_sync.github.workflow import ActionLog, ActionsContext, CommentCommand
from registry_sync.render.markdown import code_span, escape_text

__all__ = ["COMMAND", "is_command", "plan_again", "replanned"]

COMMAND = "/registry-sync plan"
_WRITERS = frozenset({"admin", "maintain", "write"})


def is_command(body: str) -> bool:
    """True when a comment's first line is the command."""
    return body.strip().split("\n", 1)[0].strip() == COMMAND


def plan_again(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    """Answer ``/registry-sync plan`` with a fresh plan of the main branch."""
    command = context.command
    if command is None or not is_command(command.body):
        log.line(f"Not a {COMMAND} comment: nothing to do.")
        log.output("result", "skipped")
        log.output("has-changes", "false")
        return EXIT_OK
    if context.token is None:
        raise ConfigError(f"{COMMAND} needs GITHUB_TOKEN to read the pull request and answer")
    require_api_key(options, environ, COMMAND)
    project = project_key(options, context.workspace)
    with context.client() as github:
        refusal = _not_allowed(github, command)
    if refusal:
        return _answer_refusal(context, log, command, refusal)
    problems = validate(
        options.models_dir, context.workspace, log, environment_config(options), options.limits
    )
    if problems:
        return _answer_refusal(
            context, log, command, f"{project.folder} is invalid on {context.sha[:7]}"
        )
    artifact = artifact_name(options, project)
    hint = artifact_hint(artifact, context)
    run_ = plan(options, environ, log, artifact_hint=hint)
    if run_.document is None:
        return _answer_refusal(context, log, command, f"the plan failed: {run_.errors.strip()}")
    plan_outputs(options, run_, log)
    top = marker(
        PLAN_KIND,
        {
            "project": project.text,
            "digest": run_.digest,
            "head": context.sha,
            "run": context.run_id,
            "artifact": artifact,
            "workflow": context.workflow,
            "replan": command.comment_id,
        },
    )
    body = plan_markdown(options, top=top, artifact_hint=hint, footer=_footer(context, command))
    log.summary(body)
    write_to_github(
        context,
        log,
        f"posting the re-plan on #{command.number}",
        lambda client: client.comment(command.number, body),
    )
    return EXIT_ERROR if run_.violations else EXIT_OK


def replanned(
    github: GitHubClient, number: int, project: ProjectKey, context: ActionsContext
) -> ReviewedPlan:
    """The re-plan this run's plan job posted on ``number``, read from this run's
    artifact; raises :class:`Refusal` when there is none to trust."""
    found = [
        (comment, data)
        for comment in github.find_comments(
            number, lambda body: is_marked(body, PLAN_KIND, project)
        )
        if (data := read_marker(str(comment.get("body", "")), PLAN_KIND)) is not None
        and "replan" in data
        and str(data.get("run")) == str(context.run_id)
    ]
    if not found:
        raise Refusal([f"#{number} shows no re-plan of {project.text} made by this run"])
    comment, data = found[-1]
    if comment.get("updated_at") != comment.get("created_at"):
        raise Refusal(
            [
                f"the re-plan on #{number} was edited at {comment.get('updated_at')}: the "
                "plan job writes it once, so it is not trusted"
            ]
        )
    digest = data.get("digest")
    if data.get("head") != context.sha or not isinstance(digest, str):
        raise Refusal([f"the re-plan on #{number} is not a plan of {context.sha[:7]}"])
    document = artifact_plan(github, str(context.run_id), str(data.get("artifact")))
    if plan_digest(document) != digest:
        raise Refusal(
            [f"the re-plan on #{number} is not the plan this run's artifact holds: not trusted"]
        )
    return ReviewedPlan(document, digest, str(context.run_id))


def _not_allowed(github: GitHubClient, command: CommentCommand) -> str:
    """Why this command is not answered with a plan, empty when it is."""
    if not command.is_pull_request:
        return f"{COMMAND} re-plans a merged pull request; #{command.number} is an issue"
    pull = github.pull_request(command.number)
    if not pull.get("merged_at"):
        return (
            f"#{command.number} is not merged: its plan job plans it on every push "
            f"(re-run that job for a fresh plan); {COMMAND} is for a merged pull request"
        )
    permission = github.permission(command.login)
    if permission not in _WRITERS:
        return (
            f"{command.login} has {permission} access; {COMMAND} needs someone with write "
            "access to the repository"
        )
    return ""


def _answer_refusal(
    context: ActionsContext, log: ActionLog, command: CommentCommand, reason: str
) -> int:
    markdown = f"### ❌ Not re-planned\n\n{escape_text(reason)}.\n"
    log.annotate("error", f"{COMMAND}: {reason}", title="registry-sync")
    log.summary(markdown)
    log.output("result", "refused")
    log.output("has-changes", "false")
    write_to_github(
        context,
        log,
        f"answering on #{command.number}",
        lambda client: client.comment(command.number, markdown),
    )
    return EXIT_ERROR


def _footer(context: ActionsContext, command: CommentCommand) -> str:
    ran = f"[run {context.run_id}]({context.run_url})" if context.run_url else "this run"
    return (
        f"---\nRe-planned at {code_span(context.sha[:7])} of the main branch, as "
        f"{escape_text(command.login)} asked ({COMMAND}), by {ran}.\n\n"
        "**Next:** this plan is applied only when the apply job of this run is approved "
        "in its environment; the apply job refuses any other plan."
    )
