"""The GitHub Action's logic: plans as pull-request comments, drift checks on a schedule.

``action.yml`` at the repository root installs registry-sync and runs
``python -m registry_sync.github``; everything it does lives here so tests can run it
with a fake ``GITHUB_*`` environment.
"""

from registry_sync.github.action import ActionOptions, resolve_mode, run_action
from registry_sync.github.comments import CommentClient, GitHubError
from registry_sync.github.workflow import ActionLog, ActionsContext, PullRequest

__all__ = [
    "ActionLog",
    "ActionOptions",
    "ActionsContext",
    "CommentClient",
    "GitHubError",
    "PullRequest",
    "resolve_mode",
    "run_action",
]
