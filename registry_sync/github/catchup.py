"""Which merged pull requests an apply run applies: every one merged since the last
successful run of the apply workflow that has not been told a final result.

GitHub keeps one pending run per concurrency group and cancels the older pending
one, so the run of a merge can be dropped silently. An apply run therefore does not
apply its own merge alone: it lists the commits since the last successful run of
its workflow on the branch (the compare API), finds the pull request each one
merged (``commits/{sha}/pulls``, its ``merge_commit_sha`` being the commit), and
keeps those whose pull request carries no final apply reply of this project yet
(``complete``, ``no-changes`` or ``refused``): a reply ``incomplete`` or
``interrupted`` is taken up again, as a re-run of the job would. A run cancelled or
superseded loses nothing: the next one picks its pull requests up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry_sync.github.api import GitHubClient, GitHubError
from registry_sync.github.review import ProjectKey, is_marked, read_marker
from registry_sync.github.workflow import ActionsContext

__all__ = ["APPLY_KIND", "FINAL", "Pending", "pending_pulls"]

APPLY_KIND = "apply"
# The results of an apply reply that settle a pull request: it is not applied again.
FINAL = frozenset({"complete", "no-changes", "refused"})


@dataclass(frozen=True)
class Pending:
    """The merged pull requests to apply, in merge order, and those passed over as
    already told, each with the result it was told."""

    pulls: list[dict[str, Any]]
    told: list[tuple[int, str]]
    # The pull request that merged GITHUB_SHA.
    tip: int
    note: str = ""


def pending_pulls(
    github: GitHubClient, context: ActionsContext, project: ProjectKey, tip: Mapping[str, Any]
) -> Pending:
    """The pull requests merged since the last successful apply run, ``tip`` (the
    pull request that merged ``GITHUB_SHA``) last."""
    shas, note = _since_last_success(github, context)
    pulls: list[dict[str, Any]] = []
    told: list[tuple[int, str]] = []
    for sha in shas:
        pull = dict(tip) if sha == context.sha else github.merged_pull_request(sha)
        if pull is None:
            continue
        result = _told(github, int(pull["number"]), project)
        if result in FINAL:
            told.append((int(pull["number"]), result))
        else:
            pulls.append(pull)
    return Pending(pulls, told, int(tip["number"]), note)


def _since_last_success(github: GitHubClient, context: ActionsContext) -> tuple[list[str], str]:
    if not context.workflow or not context.ref_name:
        return [context.sha], ""
    try:
        base = github.last_success(context.workflow, context.ref_name)
        if base is None or base == context.sha:
            return [context.sha], ""
        shas = github.commits_between(base, context.sha)
    except GitHubError as exc:
        return [context.sha], (
            f"the merges since the last successful apply could not be listed ({exc}); only "
            f"{context.sha[:7]} is applied"
        )
    return (shas if context.sha in shas else [*shas, context.sha]), ""


def _told(github: GitHubClient, number: int, project: ProjectKey) -> str | None:
    """The result of this project's last apply reply on ``number``, None without one
    (a reply of an older version, without a result, settles it)."""
    reply = github.find_comment(number, lambda body: is_marked(body, APPLY_KIND, project))
    if reply is None:
        return None
    data = read_marker(str(reply.get("body", "")), APPLY_KIND) or {}
    result = data.get("result")
    return result if isinstance(result, str) else "complete"
