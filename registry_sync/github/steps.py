"""The steps every mode shares: validate in-process, run ``registry-sync`` as an
isolated child process, and write to GitHub without letting a write failure pass
for the plan's.

The child runs as ``python -I -m registry_sync``: isolated mode puts neither the
current folder (the checkout) nor ``PYTHON*`` variables on the import path, so a
``registry_sync/`` folder in a pull request can never stand in for the installed
package.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.bounds import LoadLimits
from registry_sync.desired.load import load_effective
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from registry_sync.github.api import GitHubClient, GitHubError
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.review import ProjectKey, plan_digest
from registry_sync.github.workflow import ActionLog, ActionsContext
from registry_sync.operations.show import ShowRequest, show_plan
from registry_sync.render.markdown import COMMENT_LIMIT, MARKER, code_span, render_markdown
from registry_sync.render.problems import count_phrase, problem_annotation
from registry_sync.schema.problems import Problem
from registry_sync.settings.config import ProjectConfig, project_config

__all__ = [
    "PlanRun",
    "artifact_hint",
    "artifact_name",
    "environment_config",
    "plan",
    "plan_markdown",
    "plan_outputs",
    "project_key",
    "registry_sync",
    "require_api_key",
    "settings_arguments",
    "validate",
    "write_to_github",
]


@dataclass(frozen=True)
class PlanRun:
    """One run of ``registry-sync plan``: its exit code, output and saved plan."""

    returncode: int
    markdown: str
    errors: str
    document: dict[str, Any] | None

    @property
    def digest(self) -> str | None:
        """The plan's digest, None when no plan was made."""
        return None if self.document is None else plan_digest(self.document)

    @property
    def body(self) -> str:
        """The Markdown plan without the renderer's own marker line, which the action
        replaces with one naming the project."""
        first, _, rest = self.markdown.partition("\n")
        return rest if first == MARKER else self.markdown

    @property
    def unhealthy(self) -> list[tuple[str, str]]:
        """The declared entries the registry reports unavailable, each with its error."""
        if self.document is None:
            return []
        return [
            (action["id"], action["live_health"].get("error") or "no reason given")
            for action in self.document["actions"]
            if isinstance(action.get("live_health"), dict)
            and action["live_health"].get("is_available") is False
        ]

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

    @property
    def violations(self) -> list[str]:
        """Why apply would refuse this plan (the policy's violations, read-only
        conflicts among them), each as ``rule: message``."""
        if self.document is None:
            return []
        found = self.document.get("violations") or []
        return [f"{item['rule']}: {item['message']}" for item in found]


def require_api_key(options: ActionOptions, environ: Mapping[str, str], what: str) -> None:
    """Raise :class:`ConfigError` when the registry's key is not in the environment
    variable ``options`` name: ``what`` (a mode) cannot run without it."""
    key = options.api_key_env
    if not environ.get(key):
        raise ConfigError(
            f"{what} needs the registry's API key in {key}: pass the secret as that "
            f"environment variable (env: {key}: ${{{{ secrets.{key} }}}})"
        )


def project_key(options: ActionOptions, workspace: Path | None) -> ProjectKey:
    """The project these options plan: the models folder from the repository's root
    (the checkout, ``workspace``; the working directory is part of it), the registry
    as the JSON plan names it, and the environment."""
    folder = options.models_dir
    if workspace is not None:
        # Outside the checkout: the path as given.
        with contextlib.suppress(ValueError):
            folder = (Path.cwd() / folder).resolve().relative_to(workspace.resolve())
    return ProjectKey(
        folder.as_posix().rstrip("/"), options.api_url.rstrip("/"), options.environment
    )


def artifact_name(options: ActionOptions, project: ProjectKey) -> str:
    """The input when given, else one name per project."""
    return options.artifact_name or f"registry-sync-plan-{project.slug}"


def environment_config(options: ActionOptions) -> ProjectConfig | None:
    """The configuration of the environment the options select, None without one."""
    if options.environment is None:
        return None
    explicit = None if options.config_file is None else Path(options.config_file)
    return project_config(explicit).select(options.environment)


def validate(
    models_dir: Path,
    workspace: Path | None,
    log: ActionLog,
    config: ProjectConfig | None = None,
    limits: LoadLimits | None = None,
) -> list[Problem]:
    """Load the models folder (as the environment ``config`` selects sees it, if
    given, within ``limits``); log every problem and annotate it on its file."""
    with log.group(f"registry-sync validate --models-dir {models_dir}"):
        result = load_effective(models_dir, config, limits=limits)
        lines = [f"note: {note}" for note in result.notes]
        lines.extend(str(problem) for problem in result.problems)
        log.untrusted("\n".join(lines))
        problems = len(result.problems)
        log.line(
            f"{count_phrase(len(result.definitions), result.files)}, "
            f"{problems} {'problem' if problems == 1 else 'problems'}."
        )
    for problem in result.problems:
        log.line(problem_annotation(problem, file=_workspace_path(problem.file, workspace)))
    # Warnings are rules the API does not enforce: shown on their lines, never fatal.
    return list(result.errors)


def _workspace_path(file: str, workspace: Path | None) -> str:
    """``file`` relative to the checkout, where annotations attach to it."""
    if workspace is None:
        return file
    try:
        return Path(file).resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return file


def plan(
    options: ActionOptions,
    environ: Mapping[str, str],
    log: ActionLog,
    *,
    artifact_hint: str,
    detailed: bool = False,
    cwd: Path | None = None,
) -> PlanRun:
    """Run ``registry-sync plan --format markdown --out <plan file>`` with every
    setting passed explicitly, as resolved; in ``cwd`` when given (the same folder
    of another commit's tree: the paths are relative)."""
    # A plan file left from an earlier step must never pass for this run's plan.
    options.plan_file.unlink(missing_ok=True)
    arguments = [
        "plan",
        *settings_arguments(options),
        "--models-dir",
        str(options.models_dir),
        "--prune" if options.prune else "--no-prune",
        "--format",
        "markdown",
        "--out",
        str(options.plan_file.absolute()),
        "--artifact-hint",
        artifact_hint,
    ]
    if detailed:
        arguments.append("--detailed-exitcode")
    with log.group("registry-sync plan"):
        completed = registry_sync(arguments, environ, cwd)
        log.untrusted(completed.stdout)
        log.untrusted(completed.stderr)
    document = None
    if completed.returncode in (EXIT_OK, EXIT_ERROR, EXIT_CHANGES) and options.plan_file.exists():
        document = json.loads(options.plan_file.read_text(encoding="utf-8"))
    return PlanRun(completed.returncode, completed.stdout, completed.stderr, document)


def plan_markdown(options: ActionOptions, *, top: str, artifact_hint: str, footer: str = "") -> str:
    """The plan just saved (``options.plan_file``) as a comment or issue body within
    GitHub's limit, ``top`` first and ``footer`` last: the renderer gets the final
    budget, so it leaves whole blocks out and says so, and nothing cuts it again."""
    return render_markdown(
        show_plan(ShowRequest(options.plan_file)).plan,
        limit=COMMENT_LIMIT,
        artifact_hint=artifact_hint,
        top=top,
        footer=footer,
    )


def settings_arguments(options: ActionOptions) -> list[str]:
    """``--api-url`` and, when one was found, ``--config``: plan and apply read the
    same file the action resolved its settings from. With an environment, ``--env``,
    and ``--api-url`` only when the input gave one."""
    if options.environment is not None:
        arguments = ["--env", options.environment]
        if options.api_url_given:
            arguments += ["--api-url", options.api_url]
    else:
        arguments = ["--api-url", options.api_url]
    if options.config_file is not None:
        arguments += ["--config", options.config_file]
    return arguments


def registry_sync(
    arguments: Sequence[str], environ: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``registry_sync`` in isolated mode (``-I``), in ``cwd``
    when given."""
    return subprocess.run(
        [sys.executable, "-I", "-m", "registry_sync", *arguments],
        cwd=cwd,
        env={**environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def plan_outputs(options: ActionOptions, run: PlanRun, log: ActionLog) -> None:
    """The step outputs every mode that plans sets."""
    changed = run.changed_ids
    result = (
        "conflict"
        if run.conflict_ids
        else "violation"
        if run.violations
        else "changes"
        if changed
        else "no-changes"
    )
    log.output("result", result)
    log.output("has-changes", "true" if changed else "false")
    log.output("changed-ids", json.dumps(changed))
    log.output("plan-file", str(options.plan_file))
    if run.digest is not None:
        log.output("plan-digest", run.digest)


def write_to_github(
    context: ActionsContext,
    log: ActionLog,
    what: str,
    call: Callable[[GitHubClient], str | None],
) -> str | None:
    """Run ``call`` with a client; a failure (no token, 403, GitHub down) becomes a
    warning in the log and the job summary, never the step's result."""
    if context.token is None:
        _warn(log, f"GITHUB_TOKEN is not set, so {what} was skipped")
        return None
    try:
        with context.client() as client:
            return call(client)
    except GitHubError as exc:
        _warn(log, f"{what} failed; the result above stands: {exc}")
        return None


def _warn(log: ActionLog, message: str) -> None:
    log.annotate("warning", message, title="registry-sync")
    log.summary(f"> [!WARNING]\n> {message}\n")


def artifact_hint(name: str, context: ActionsContext) -> str:
    """Markdown naming where the full plan is: this run's artifact."""
    run = f"[this workflow run]({context.run_url})" if context.run_url else "this workflow run"
    return f"the {code_span(name)} artifact of {run}"
