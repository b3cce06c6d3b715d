"""What the GitHub Action does, as a function tests can call.

Modes:

- ``pr`` (pull requests): validate; plan as Markdown with the JSON plan saved;
  post or update this project's sticky comment (with the head commit, the run, the
  time and the plan's digest); append the plan to the job summary. Fails on a
  validation error, a failed plan or a read-only conflict; a comment that cannot be
  posted is a warning. Without ``MKA1_API_KEY`` (pull requests from forks get no
  secrets) it validates only and says why the plan was skipped.
- ``plan``: ``pr`` on a pull request; on any other event the same plan, summary and
  outputs without a comment (the apply workflow's first job uses it, and a merge
  queue's ``merge_group`` check: the group is validated and planned, a failing plan
  fails the queue, and drift is never reported from it).
- ``drift`` (schedule): see :mod:`registry_sync.github.drift`.
- ``apply`` (push to the main branch): see :mod:`registry_sync.github.apply`.

``auto`` picks ``pr`` for pull-request events, ``plan`` for ``merge_group``, the
answer to ``/registry-sync plan`` for ``issue_comment``
(:mod:`registry_sync.github.replan`) and ``drift`` otherwise; ``pr`` on
``merge_group`` plans the group as ``plan`` does.
``pull_request_target`` runs are refused unless the workflow opts in; then the
checkout must be the pull request's merge and the key goes only where the base
branch's settings say (:mod:`registry_sync.github.target`).

The comment is rendered here from the saved JSON plan, with the final budget: the
marker and the footer count towards GitHub's limit, so nothing cuts it again.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path

from registry_sync.errors import ConfigError, InvalidConfig, RegistrySyncError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.github import apply, drift
from registry_sync.github.api import GitHubClient
from registry_sync.github.gates import keep_labels
from registry_sync.github.inputs import ActionInputs, ActionOptions, resolve_options
from registry_sync.github.replan import plan_again
from registry_sync.github.review import ProjectKey, marker, read_marker, short_digest
from registry_sync.github.steps import (
    PlanRun,
    artifact_hint,
    artifact_name,
    environment_config,
    plan,
    plan_markdown,
    plan_outputs,
    project_key,
    validate,
    write_to_github,
)
from registry_sync.github.target import check_target
from registry_sync.github.workflow import (
    COMMENT,
    MERGE_GROUP,
    PULL_REQUEST_EVENTS,
    ActionLog,
    ActionsContext,
    PullRequest,
)
from registry_sync.render.markdown import code_span, escape_text
from registry_sync.schema.problems import Problem
from registry_sync.settings.config import project_config
from registry_sync.settings.defaults import API_KEY_VARIABLE

__all__ = ["PLAN_KIND", "resolve_mode", "run_action"]

# Problems listed in a comment or summary; the log and annotations have them all.
_PROBLEMS_SHOWN = 50
# Characters of a failed plan's error output quoted in a comment or summary.
_ERROR_SHOWN = 4000
PLAN_KIND = "plan"


def run_action(inputs: ActionInputs, environ: Mapping[str, str], log: ActionLog) -> int:
    """Run the action in the mode the inputs ask for; returns the step's exit code."""
    api_key = environ.get(API_KEY_VARIABLE, "")
    if api_key:
        # Secrets are masked by the runner already; this covers a key that reached
        # the environment some other way.
        log.mask(api_key)
    try:
        context = ActionsContext.from_environ(environ)
        log.context = context
        options = resolve_options(inputs, project_config(), environ)
        context = dataclasses.replace(context, comment_author=options.comment_author or None)
        log.context = context
        if options.api_key_env != API_KEY_VARIABLE and environ.get(options.api_key_env):
            log.mask(environ[options.api_key_env])
        if context.event_name == "pull_request_target" and not options.allow_pull_request_target:
            raise ConfigError(
                "refusing to run on pull_request_target: such runs get the repository's "
                "secrets and a write token while planning files from the pull request, so "
                "a pull request from anyone could use the registry key. Use the "
                "pull_request event (forks are then validated without the key), or set "
                "the input allow-pull-request-target: true if you have weighed this"
            )
        mode = resolve_mode(options.mode, context.event_name)
        log.output("artifact-name", artifact_name(options, project_key(options, context.workspace)))
        if mode == "drift":
            return drift.run(options, context, environ, log)
        if mode == "apply":
            return apply.run(options, context, environ, log)
        if mode == "replan":
            return plan_again(options, context, environ, log)
        return _plan_mode(inputs, options, context, environ, log, require_pull=mode == "pr")
    except InvalidConfig as exc:
        for problem in exc.problems:
            log.annotate(
                "error",
                f"{problem.path}: {problem.message}" if problem.path else problem.message,
                title="registry-sync config",
                file=problem.file,
                line=problem.line,
            )
        log.annotate("error", str(exc), title="registry-sync")
        log.output("result", "error")
        return EXIT_ERROR
    except RegistrySyncError as exc:
        log.annotate("error", str(exc), title="registry-sync")
        log.output("result", "error")
        return EXIT_ERROR


def resolve_mode(mode: str, event_name: str) -> str:
    """The mode to run: ``auto`` follows the event that started the run."""
    if event_name == MERGE_GROUP and mode in ("auto", "pr"):
        return "plan"
    if event_name == COMMENT and mode in ("auto", "pr", "plan"):
        return "replan"
    if mode != "auto":
        return mode
    return "pr" if event_name in PULL_REQUEST_EVENTS else "drift"


def _plan_mode(
    inputs: ActionInputs,
    options: ActionOptions,
    context: ActionsContext,
    environ: Mapping[str, str],
    log: ActionLog,
    *,
    require_pull: bool,
) -> int:
    pull = context.pull_request
    if pull is None and require_pull:
        raise ConfigError(
            f"mode pr needs a pull_request event, but this run was started by "
            f"{context.event_name!r}: use mode plan, drift or auto"
        )
    project = project_key(options, context.workspace)
    artifact = artifact_name(options, project)

    def publish(body: str, run: PlanRun | None = None) -> None:
        if pull is None:
            log.summary(body)
            return
        markdown = _comment(body, run, project, artifact, options, context, pull)
        log.summary(markdown)
        if pull.from_fork and context.event_name == "pull_request":
            return  # a fork's token is read-only: there is nothing to try

        def post(client: GitHubClient) -> str:
            return client.upsert(
                pull.number, markdown, lambda text: _sticky(text, project, context.workflow)
            )

        url = write_to_github(context, log, "posting the plan comment", post)
        if url:
            log.line(f"Plan comment: {url}")
            log.output("comment-url", url)

    if context.event_name == "pull_request_target" and pull is not None:
        try:
            check_target(inputs, options, context, pull, environ)
        except ConfigError as exc:
            log.annotate("error", str(exc), title="registry-sync")
            publish(_headline(f"**❌ Not planned:** {escape_text(str(exc))}."))
            log.output("result", "error")
            return EXIT_ERROR

    problems = validate(
        options.models_dir, context.workspace, log, environment_config(options), options.limits
    )
    if problems:
        publish(_invalid_markdown(options.models_dir, problems))
        log.output("result", "invalid")
        return EXIT_ERROR

    if not environ.get(options.api_key_env):
        reason = _skip_reason(pull, options.api_key_env)
        log.annotate("warning", f"plan skipped: {reason}", title="registry-sync")
        publish(_skipped_markdown(options.models_dir, reason))
        log.output("result", "skipped")
        return EXIT_OK

    run = plan(options, environ, log, artifact_hint=artifact_hint(artifact, context))
    if run.document is None:
        publish(_failed_markdown(run.errors))
        log.output("result", "error")
        return EXIT_ERROR
    plan_outputs(options, run, log)
    publish(run.body, run)
    if pull is not None and not (pull.from_fork and context.event_name == "pull_request"):
        keep_labels(context, log, pull, run.document)
    if run.violations:
        log.annotate(
            "error",
            "apply would refuse this plan: " + "; ".join(run.violations),
            title="registry-sync: policy violation",
        )
        return EXIT_ERROR
    return EXIT_OK


def _sticky(body: str, project: ProjectKey, workflow: str) -> bool:
    """True for this project's plan comment written by this workflow: a look-alike
    another workflow posts under the same identity is left alone."""
    data = read_marker(body, PLAN_KIND)
    return (
        data is not None
        and data.get("project") == project.text
        and data.get("workflow", "") == workflow
    )


def _comment(
    body: str,
    run: PlanRun | None,
    project: ProjectKey,
    artifact: str,
    options: ActionOptions,
    context: ActionsContext,
    pull: PullRequest,
) -> str:
    """The sticky comment: the hidden marker pointing at what apply checks, the plan,
    and what a reviewer needs to know about it. A plan is rendered from the saved
    JSON plan with the final budget, the marker and the footer included."""
    digest = None if run is None else run.digest
    head = marker(
        PLAN_KIND,
        {
            "project": project.text,
            "digest": digest,
            "head": pull.head_sha,
            "run": context.run_id,
            "artifact": artifact,
            "workflow": context.workflow,
        },
    )
    footer = _review_footer(run, project, options, context, pull)
    if run is not None and run.document is not None:
        hint = artifact_hint(artifact, context)
        return plan_markdown(options, top=head, artifact_hint=hint, footer=footer)
    return f"{head}\n{body.rstrip()}\n\n{footer}"


def _review_footer(
    run: PlanRun | None,
    project: ProjectKey,
    options: ActionOptions,
    context: ActionsContext,
    pull: PullRequest,
) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sha = pull.head_sha
    commit = f"[`{sha[:7]}`]({context.commit_url(sha)})" if sha else "an unknown commit"
    ran = f"[run {context.run_id}]({context.run_url})" if context.run_url else "this run"
    facts = [f"Planned at {commit}", ran, when]
    if run is not None and run.digest is not None:
        facts.append(f"plan digest `{short_digest(run.digest)}`")
    registry = code_span(project.registry)
    through = (
        f" after approval in the {code_span(options.apply_environment)} environment"
        if options.apply_environment
        else ""
    )
    if run is None or run.document is None:
        step = "Nothing can be applied until the plan succeeds on this pull request."
    elif run.violations:
        step = "Merging cannot apply this plan: resolve its violations (listed at the top) first."
    elif not run.changed_ids:
        step = f"Merging changes nothing in {registry}."
    else:
        step = (
            f"Merging applies exactly this plan to {registry}{through}; the apply job "
            "refuses any other."
        )
    return f"---\n{' · '.join(facts)}\n\n**Next:** {step}\n"


def _skip_reason(pull: PullRequest | None, key: str = API_KEY_VARIABLE) -> str:
    if pull is not None and pull.from_fork:
        origin = pull.head_repository or "a deleted fork"
        return (
            f"this pull request comes from a fork ({origin}), and GitHub gives workflows "
            f"started by forks no secrets, so {key} is empty. The models are "
            "valid; a maintainer can see the plan once the changes are on a branch of "
            "this repository"
        )
    return (
        f"{key} is empty: pass the registry's admin key from a repository "
        f"secret (env: {key}: ${{{{ secrets.{key} }}}})"
    )


def _headline(title: str) -> str:
    return f"### registry-sync plan\n\n{title}\n"


def _invalid_markdown(models_dir: Path, problems: Sequence[Problem]) -> str:
    count = len(problems)
    listed = "\n".join(f"- {code_span(str(problem))}" for problem in problems[:_PROBLEMS_SHOWN])
    more = count - _PROBLEMS_SHOWN
    tail = f"\n- …and {more} more (see the job log)" if more > 0 else ""
    noun = "problem" if count == 1 else "problems"
    return _headline(
        f"**❌ {code_span(str(models_dir) + '/')} is invalid: {count} {noun}.** "
        f"No plan was made.\n\n{listed}{tail}"
    )


def _skipped_markdown(models_dir: Path, reason: str) -> str:
    return _headline(
        f"**✅ {code_span(str(models_dir) + '/')} is valid. ⚠️ Plan skipped:** "
        f"{escape_text(reason)}."
    )


def _failed_markdown(errors: str) -> str:
    quoted = errors.strip()[-_ERROR_SHOWN:]
    fence = "`" * max(3, _longest_backtick_run(quoted) + 1)
    return _headline(f"**❌ The plan failed.**\n\n{fence}text\n{quoted}\n{fence}")


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest
