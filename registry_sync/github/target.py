"""``pull_request_target``, opted in: the key goes only where the base branch says,
and the tree planned is the pull request's merge.

Such a run holds the repository's secrets while the checkout may hold anything a
pull request brings, a fork's included. So before anything is sent to a registry:

- the checked-out commit must be the merge GitHub made of the pull request
  (``merge_commit_sha`` of ``GET /pulls/{number}``): the base branch alone (the
  default checkout) would plan no change of the pull request, and its head alone
  is not what merging makes;
- every setting that decides where the key goes (the API URL, and the variable the
  key is read from) is resolved from the base branch's ``registry-sync.yaml``
  (read through the API at the base commit, ``GITHUB_SHA``) as well as from the
  checkout's; a pull request that changes them is not planned here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from registry_sync.errors import ConfigError
from registry_sync.github.api import GitHubClient
from registry_sync.github.git import checked_out
from registry_sync.github.inputs import ActionInputs, ActionOptions, resolve_options
from registry_sync.github.workflow import ActionsContext, PullRequest
from registry_sync.settings.config import ProjectConfig, parse_config
from registry_sync.settings.defaults import CONFIG_FILE

__all__ = ["check_target"]

_CHECKOUT = (
    "check out the merge with actions/checkout and "
    "`ref: refs/pull/${{ github.event.pull_request.number }}/merge`"
)


def check_target(
    inputs: ActionInputs,
    options: ActionOptions,
    context: ActionsContext,
    pull: PullRequest,
    environ: Mapping[str, str],
) -> None:
    """Raise :class:`ConfigError` saying why this ``pull_request_target`` run must
    not plan: the checkout is not the pull request's merge, or the pull request
    changes where the key goes."""
    if context.token is None:
        raise ConfigError(
            "a pull_request_target run needs GITHUB_TOKEN to check that it plans the pull "
            "request's merge with the base branch's settings"
        )
    with context.client() as github:
        _check_merge(github, context, pull)
        base = resolve_options(inputs, _base_config(github, context), environ)
    changed = [
        f"{name} is {theirs!r} on the base branch but {ours!r} in the pull request"
        for name, ours, theirs in (
            ("the API URL", options.api_url, base.api_url),
            ("the key's variable", options.api_key_env, base.api_key_env),
        )
        if ours != theirs
    ]
    if changed:
        raise ConfigError(
            "this pull request changes where the registry key goes ("
            + "; ".join(changed)
            + "), and a pull_request_target run sends the key only where the base branch "
            "says: it is not planned here. Plan it from a branch of this repository (the "
            "pull_request event), or change the settings in a pull request of their own"
        )


def _check_merge(github: GitHubClient, context: ActionsContext, pull: PullRequest) -> None:
    try:
        head = checked_out(Path.cwd())
    except ConfigError as exc:
        raise ConfigError(
            f"cannot tell which commit is checked out ({exc}); a pull_request_target run "
            "needs the checkout's .git"
        ) from exc
    found = github.pull_request(pull.number)
    merge = found.get("merge_commit_sha")
    if found.get("mergeable") is False or not isinstance(merge, str) or not merge:
        raise ConfigError(
            f"GitHub has no merge of pull request #{pull.number} with its base branch (it "
            "conflicts, or GitHub has not made the merge yet), so there is nothing to plan: "
            "resolve the conflict, or re-run the job"
        )
    if head == merge:
        return
    if head == context.sha:
        what = (
            f"the base branch's last commit ({head[:7]}), whose plan shows nothing "
            "the pull request changes"
        )
    elif head == pull.head_sha:
        what = f"the pull request's head ({head[:7]}) without the base branch"
    else:
        what = f"commit {head[:7]}"
    raise ConfigError(
        f"a pull_request_target run plans the pull request's merge ({merge[:7]}), but the "
        f"checkout is {what}: {_CHECKOUT}"
    )


def _base_config(github: GitHubClient, context: ActionsContext) -> ProjectConfig:
    """``registry-sync.yaml`` as the base branch has it, found as the CLI finds it:
    in the working directory or the nearest folder above it, up to the checkout's
    root."""
    root = (context.workspace or Path.cwd()).resolve()
    try:
        here = Path.cwd().resolve().relative_to(root)
    except ValueError:
        raise ConfigError(
            f"the working directory {Path.cwd()} is outside the checkout {root} (GITHUB_WORKSPACE)"
        ) from None
    for folder in (here, *here.parents):
        path = folder / CONFIG_FILE
        text = github.file_text(path.as_posix(), context.sha)
        if text is not None:
            return parse_config(text, root / path)
    return ProjectConfig()
