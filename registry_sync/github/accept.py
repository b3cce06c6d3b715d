"""Drift you can accept (``drift-pull-request: "true"``): beside the drift issue, a
pull request that writes what the registry holds into the files with
``registry-sync pull``.

The drift job runs ``pull`` in its checkout, and the files it changed become one
commit on the branch ``registry-sync/accept-drift-<project>`` (made through the Git
Data API on top of the checked-out commit, so nothing is pushed with git and the
branch always holds exactly the drift of the last run). The pull request is
opened once and updated while the drift lasts; its body says ``Closes #<issue>``,
so merging it closes the drift issue too, and the issue links the pull request.
Once the drift is gone, the pull request is closed with the issue. Drift that
``pull`` cannot write into files (an entry only the registry holds, or only the
files) gets no pull request: the issue says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry_sync.github.api import GitHubClient
from registry_sync.github.inputs import ActionOptions
from registry_sync.github.review import ProjectKey, marker
from registry_sync.github.steps import (
    environment_config,
    registry_sync,
    settings_arguments,
    write_to_github,
)
from registry_sync.github.workflow import ActionLog, ActionsContext
from registry_sync.render.markdown import code_span

__all__ = ["ACCEPT_KIND", "accept_drift", "branch_name", "close_accepting"]

ACCEPT_KIND = "accept-drift"
_SUFFIXES = (".yaml", ".yml")


def branch_name(project: ProjectKey) -> str:
    """The branch of the project's drift pull request."""
    return f"registry-sync/accept-drift-{project.slug}"


def accept_drift(
    options: ActionOptions,
    context: ActionsContext,
    environ: Mapping[str, str],
    log: ActionLog,
    project: ProjectKey,
    issue: int,
) -> dict[str, Any] | None:
    """Run ``pull`` and open or update the pull request accepting the drift of
    ``issue``; returns it, None when there is nothing to propose or it failed."""
    folders = _folders(options)
    before = _snapshot(folders)
    arguments = ["pull", *settings_arguments(options), "--models-dir", str(options.models_dir)]
    with log.group("registry-sync pull"):
        completed = registry_sync(arguments, environ)
        log.untrusted(completed.stdout)
        log.untrusted(completed.stderr)
    if completed.returncode != 0:
        log.annotate(
            "warning",
            "registry-sync pull failed, so no pull request accepts the drift (see the log)",
            title="registry-sync",
        )
        return None
    root = (context.workspace or Path.cwd()).resolve()
    changed = {
        path.resolve().relative_to(root).as_posix(): text
        for path, text in _snapshot(folders).items()
        if before.get(path) != text
    }
    if not changed:
        log.line("pull changed no file: no pull request accepts this drift (see the issue).")
        return None
    branch = branch_name(project)
    listed = "\n".join(f"- {code_span(path)}" for path in sorted(changed))
    body = (
        f"{marker(ACCEPT_KIND, {'project': project.text})}\n"
        f"Writes what {code_span(project.registry)} holds into the files of "
        f"{code_span(project.folder)} with `registry-sync pull`, accepting the drift "
        f"reported in #{issue}. Merging it makes the files say what the registry "
        f"does; the plan of the merge changes nothing.\n\n{listed}\n\nCloses #{issue}\n"
    )
    title = f"Accept registry drift: {project.registry} into {project.folder}"
    made: list[dict[str, Any]] = []

    def propose(client: GitHubClient) -> str:
        message = f"Accept registry drift into {project.folder} (registry-sync pull)"
        client.commit_files(context.sha, branch, changed, message)
        made.append(client.upsert_pull(branch, context.ref_name or "main", title, body))
        return str(made[-1].get("html_url", ""))

    url = write_to_github(context, log, "proposing the drift pull request", propose)
    if url:
        log.line(f"Drift pull request: {url}")
    return made[-1] if made else None


def close_accepting(context: ActionsContext, log: ActionLog, project: ProjectKey) -> None:
    """Close the project's drift pull request, when one is open: the drift is gone."""

    def close(client: GitHubClient) -> None:
        pull = client.open_pull(branch_name(project))
        if pull is None:
            return
        number = int(pull["number"])
        client.issue_comment(number, "✅ No drift any more: nothing to accept. Closing.")
        client.close_pull(number)
        log.line(f"Drift pull request closed: {pull.get('html_url', '')}")

    write_to_github(context, log, "closing the drift pull request", close)


def _folders(options: ActionOptions) -> list[Path]:
    config = environment_config(options)
    overlay = None if config is None else config.overlay
    return [options.models_dir, *([overlay] if overlay is not None else [])]


def _snapshot(folders: list[Path]) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in _SUFFIXES and path.is_file():
                found[path] = path.read_text(encoding="utf-8", errors="replace")
    return found
