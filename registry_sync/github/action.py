"""What the GitHub Action does, as a function tests can call.

Two modes:

- ``pr`` (pull requests): validate; plan as Markdown with the JSON plan saved;
  post or update the sticky comment; append the plan to the job summary. Fails on a
  validation error, a failed plan or a read-only conflict. Without ``MKA1_API_KEY``
  (pull requests from forks get no secrets) it validates only and says why the plan
  was skipped.
- ``drift`` (schedule, push to main): validate; ``plan --detailed-exitcode``; name
  the drifted entries in the summary and an ``::error::`` annotation. The exit code
  is the plan's: 0 no drift, 2 drift, 1 error or read-only conflict.

``auto`` picks ``pr`` for pull-request events and ``drift`` otherwise.

Models are validated in-process (each problem becomes a file annotation); the plan
runs as ``python -m registry_sync plan``, the same command users run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.errors import ConfigError, RegistrySyncError
from registry_sync.github.comments import CommentClient
from registry_sync.github.workflow import PULL_REQUEST_EVENTS, ActionLog, ActionsContext
from registry_sync.loader import load_models
from registry_sync.problems import Problem
from registry_sync.render.markdown import MARKER, code_span, escape_text
from registry_sync.state import API_KEY_VARIABLE, DEFAULT_API_URL

MODES = ("auto", "pr", "drift")
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2
# Problems listed in a comment or summary; the log and annotations have them all.
_PROBLEMS_SHOWN = 50
# Characters of a failed plan's error output quoted in a comment or summary.
_ERROR_SHOWN = 4000


@dataclass(frozen=True)
class ActionOptions:
    """The action's inputs."""

    models_dir: Path = Path("models")
    api_url: str = DEFAULT_API_URL
    mode: str = "auto"
    prune: bool = False
    plan_file: Path = Path("plan.json")
    artifact_name: str = "registry-sync-plan"


@dataclass(frozen=True)
class _PlanRun:
    """One run of ``registry-sync plan``: its exit code, output and saved plan."""

    returncode: int
    markdown: str
    errors: str
    document: dict[str, Any] | None

    @property
    def changed_ids(self) -> list[str]:
        """The entries that differ: writes and read-only conflicts."""
        if self.document is None:
            return []
        return [
            action["id"]
            for action in self.document["actions"]
            if action["conflict"] or action["action"] in ("create", "update", "replace", "delete")
        ]

    @property
    def conflict_ids(self) -> list[str]:
        """The read-only entries whose file differs from the server."""
        if self.document is None:
            return []
        return [action["id"] for action in self.document["actions"] if action["conflict"]]


def run_action(options: ActionOptions, environ: Mapping[str, str], log: ActionLog) -> int:
    """Run the action in the mode ``options`` ask for; returns the step's exit code."""
    api_key = environ.get(API_KEY_VARIABLE, "")
    if api_key:
        # Secrets are masked by the runner already; this covers a key that reached
        # the environment some other way.
        log.mask(api_key)
    try:
        context = ActionsContext.from_environ(environ)
        log.context = context
        mode = resolve_mode(options.mode, context.event_name)
        if mode == "pr":
            return _pull_request(options, context, environ, log)
        return _drift(options, context, environ, log)
    except RegistrySyncError as exc:
        log.annotate("error", str(exc), title="registry-sync")
        log.output("result", "error")
        return EXIT_ERROR


def resolve_mode(mode: str, event_name: str) -> str:
    """``pr`` or ``drift``: ``auto`` follows the event that started the run."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    return "pr" if event_name in PULL_REQUEST_EVENTS else "drift"


def _pull_request(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    pull = context.pull_request
    if pull is None:
        raise ConfigError(
            f"mode pr needs a pull_request event, but this run was started by "
            f"{context.event_name!r}: use mode drift or auto"
        )
    can_comment = not pull.from_fork

    def publish(markdown: str) -> None:
        log.summary(markdown)
        if can_comment:
            _comment(context, pull.number, markdown, log)

    problems = _validate(options.models_dir, context.workspace, log)
    if problems:
        publish(_invalid_markdown(options.models_dir, problems))
        log.output("result", "invalid")
        return EXIT_ERROR

    if not environ.get(API_KEY_VARIABLE):
        reason = _skip_reason(pull.from_fork, pull.head_repository)
        log.annotate("warning", f"plan skipped: {reason}", title="registry-sync")
        publish(_skipped_markdown(options.models_dir, reason))
        log.output("result", "skipped")
        return EXIT_OK

    plan = _plan(options, context, environ, log, detailed=False)
    if plan.document is None:
        publish(_failed_markdown(plan.errors))
        log.output("result", "error")
        return EXIT_ERROR
    _plan_outputs(options, plan, log)
    publish(plan.markdown)
    if plan.conflict_ids:
        log.annotate(
            "error",
            "read-only entries differ from the server and can never be applied: "
            + ", ".join(plan.conflict_ids),
            title="registry-sync: read-only conflict",
        )
        return EXIT_ERROR
    return EXIT_OK


def _drift(
    options: ActionOptions, context: ActionsContext, environ: Mapping[str, str], log: ActionLog
) -> int:
    problems = _validate(options.models_dir, context.workspace, log)
    if problems:
        log.summary(_invalid_markdown(options.models_dir, problems))
        log.output("result", "invalid")
        return EXIT_ERROR
    if not environ.get(API_KEY_VARIABLE):
        raise ConfigError(
            f"drift detection needs the registry's API key: pass the secret as the "
            f"environment variable {API_KEY_VARIABLE} "
            f"(env: {API_KEY_VARIABLE}: ${{{{ secrets.{API_KEY_VARIABLE} }}}})"
        )

    plan = _plan(options, context, environ, log, detailed=True)
    if plan.document is None:
        log.summary(_failed_markdown(plan.errors))
        log.output("result", "error")
        return EXIT_ERROR
    _plan_outputs(options, plan, log)
    drifted = plan.changed_ids
    folder = f"{options.models_dir}/"
    where = folder + (f" on {context.ref_name}" if context.ref_name else "")
    where_markdown = code_span(folder) + (
        f" on {code_span(context.ref_name)}" if context.ref_name else ""
    )
    if not drifted:
        log.line(f"No drift: the registry matches {where}.")
        log.summary(f"### ✅ No drift\n\nThe registry matches {where_markdown}.\n")
        return EXIT_OK
    count = len(drifted)
    noun = "entry differs" if count == 1 else "entries differ"
    log.annotate(
        "error",
        f"{count} registry {noun} from {where}: {', '.join(drifted)}",
        title="registry-sync: drift",
    )
    listed = "\n".join(f"- {code_span(entry)}" for entry in drifted)
    log.summary(
        f"### ❌ Drift: {count} registry {noun} from {where_markdown}\n\n{listed}\n\n"
        + plan.markdown
    )
    return plan.returncode


def _validate(models_dir: Path, workspace: Path | None, log: ActionLog) -> list[Problem]:
    with log.group(f"registry-sync validate --models-dir {models_dir}"):
        result = load_models(models_dir)
        lines = [f"note: {note}" for note in result.notes]
        lines.extend(str(problem) for problem in result.problems)
        log.untrusted("\n".join(lines))
        count = len(result.definitions)
        log.line(
            f"{count} valid model {'definition' if count == 1 else 'definitions'} in "
            f"{result.files} {'file' if result.files == 1 else 'files'}, "
            f"{len(result.problems)} {'problem' if len(result.problems) == 1 else 'problems'}."
        )
    for problem in result.problems:
        message = f"{problem.path}: {problem.message}" if problem.path else problem.message
        file = _workspace_path(problem.file, workspace)
        log.annotate("error", message, title="registry-sync validate", file=file, line=problem.line)
    return list(result.problems)


def _workspace_path(file: str, workspace: Path | None) -> str:
    """``file`` relative to the checkout, where annotations attach to it."""
    if workspace is None:
        return file
    try:
        return Path(file).resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return file


def _plan(
    options: ActionOptions,
    context: ActionsContext,
    environ: Mapping[str, str],
    log: ActionLog,
    *,
    detailed: bool,
) -> _PlanRun:
    # A plan file left from an earlier step must never pass for this run's plan.
    options.plan_file.unlink(missing_ok=True)
    arguments = [
        "plan",
        "--models-dir",
        str(options.models_dir),
        "--api-url",
        options.api_url,
        "--format",
        "markdown",
        "--out",
        str(options.plan_file),
        "--artifact-hint",
        _artifact_hint(options.artifact_name, context),
    ]
    if options.prune:
        arguments.append("--prune")
    if detailed:
        arguments.append("--detailed-exitcode")
    with log.group("registry-sync plan"):
        completed = _registry_sync(arguments, environ)
        log.untrusted(completed.stdout)
        log.untrusted(completed.stderr)
    document = None
    if completed.returncode in (EXIT_OK, EXIT_ERROR, EXIT_DRIFT) and options.plan_file.exists():
        document = json.loads(options.plan_file.read_text(encoding="utf-8"))
    return _PlanRun(completed.returncode, completed.stdout, completed.stderr, document)


def _registry_sync(
    arguments: Sequence[str], environ: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry_sync", *arguments],
        env={**environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def _plan_outputs(options: ActionOptions, plan: _PlanRun, log: ActionLog) -> None:
    changed = plan.changed_ids
    result = "conflict" if plan.conflict_ids else "changes" if changed else "no-changes"
    log.output("result", result)
    log.output("has-changes", "true" if changed else "false")
    log.output("changed-ids", json.dumps(changed))
    log.output("plan-file", str(options.plan_file))


def _comment(context: ActionsContext, number: int, markdown: str, log: ActionLog) -> None:
    if context.token is None:
        log.annotate(
            "warning",
            "GITHUB_TOKEN is not set, so the plan was not posted as a comment",
            title="registry-sync",
        )
        return
    with CommentClient(context.api_url, context.token, context.repository) as client:
        url = client.upsert(number, markdown, MARKER)
    log.line(f"Plan comment: {url}")
    log.output("comment-url", url)


def _artifact_hint(artifact_name: str, context: ActionsContext) -> str:
    run = f"[this workflow run]({context.run_url})" if context.run_url else "this workflow run"
    return f"the {code_span(artifact_name)} artifact of {run}"


def _skip_reason(from_fork: bool, head_repository: str | None) -> str:
    if from_fork:
        origin = head_repository or "a deleted fork"
        return (
            f"this pull request comes from a fork ({origin}), and GitHub gives workflows "
            f"started by forks no secrets, so {API_KEY_VARIABLE} is empty. The models are "
            "valid; a maintainer can see the plan once the changes are on a branch of "
            "this repository"
        )
    return (
        f"{API_KEY_VARIABLE} is empty: pass the registry's admin key from a repository "
        f"secret (env: {API_KEY_VARIABLE}: ${{{{ secrets.{API_KEY_VARIABLE} }}}})"
    )


def _headline(title: str) -> str:
    return f"{MARKER}\n### registry-sync plan\n\n{title}\n"


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
