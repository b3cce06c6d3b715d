"""The GitHub Action's logic: plans as pull-request comments, apply of what was
reviewed after a merge, drift checks on a schedule.

``action.yml`` at the repository root installs registry-sync and runs
``python -I -m registry_sync.github``; everything it does lives here so tests can run
it with a fake ``GITHUB_*`` environment.
"""

from registry_sync.github.action import resolve_mode, run_action
from registry_sync.github.api import GitHubClient, GitHubError
from registry_sync.github.inputs import ActionInputs, ActionOptions, resolve_options
from registry_sync.github.review import ProjectKey, plan_digest, unreviewed
from registry_sync.github.workflow import ActionLog, ActionsContext, PullRequest

__all__ = [
    "ActionInputs",
    "ActionLog",
    "ActionOptions",
    "ActionsContext",
    "GitHubClient",
    "GitHubError",
    "ProjectKey",
    "PullRequest",
    "plan_digest",
    "resolve_mode",
    "resolve_options",
    "run_action",
    "unreviewed",
]
