"""What a pull request's plan asks of people: risk labels kept in step with the plan,
and, opted in (``require-approval``), an approving review before apply.

- **Labels.** A plan that deletes or replaces (destructive) or breaks (breaking)
  puts ``registry-sync:destructive`` / ``registry-sync:breaking`` on its pull
  request; a later push whose plan no longer does takes the label off again. The
  labels the event carried say what is there, so a push that changes nothing here
  makes no call. A label that cannot be written is a warning.
- **Approvals.** At apply time, the merged pull request must carry an approving
  review of its last head commit by someone other than its author, each reviewer's
  latest review counting (a later "changes requested" or a dismissal withdraws an
  approval), read through the API then, not from the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry_sync.github.api import GitHubClient
from registry_sync.github.steps import write_to_github
from registry_sync.github.workflow import ActionLog, ActionsContext, PullRequest

__all__ = ["BREAKING_LABEL", "DESTRUCTIVE_LABEL", "keep_labels", "missing_approval"]

DESTRUCTIVE_LABEL = "registry-sync:destructive"
BREAKING_LABEL = "registry-sync:breaking"
_OURS = frozenset({DESTRUCTIVE_LABEL, BREAKING_LABEL})
# Review states that replace a reviewer's earlier verdict; COMMENTED does not.
_VERDICTS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def keep_labels(
    context: ActionsContext, log: ActionLog, pull: PullRequest, document: Mapping[str, Any]
) -> None:
    """Put on ``pull`` the risk labels the plan ``document`` calls for, and take off
    those it no longer does."""
    risk = document.get("summary", {}).get("risk", {})
    wanted = {
        label
        for label, key in ((DESTRUCTIVE_LABEL, "destructive"), (BREAKING_LABEL, "breaking"))
        if isinstance(risk, dict) and risk.get(key)
    }
    add = sorted(wanted - pull.labels)
    remove = sorted((_OURS & pull.labels) - wanted)
    if not add and not remove:
        return

    def call(client: GitHubClient) -> None:
        if add:
            client.add_labels(pull.number, add)
        for name in remove:
            client.remove_label(pull.number, name)

    write_to_github(context, log, "keeping the risk labels in step", call)


def missing_approval(github: GitHubClient, pull: Mapping[str, Any]) -> list[str]:
    """Why merged pull request ``pull`` lacks the approval apply requires; empty
    when someone other than its author approved its last head commit."""
    number = pull["number"]
    author = _login(pull)
    head = pull.get("head")
    head_sha = str(head.get("sha")) if isinstance(head, dict) else ""
    latest: dict[str, Mapping[str, Any]] = {}
    for review in github.reviews(int(number)):
        login = _login(review)
        if login and review.get("state") in _VERDICTS:
            latest[login] = review
    approvers = [
        login
        for login, review in latest.items()
        if login != author
        and review.get("state") == "APPROVED"
        and review.get("commit_id") == head_sha
    ]
    if approvers:
        return []
    return [
        f"#{number} needs an approving review of its last commit {head_sha[:7]} by someone "
        f"other than its author ({author or 'unknown'}) before it is applied "
        "(require-approval), and has none"
    ]


def _login(item: Mapping[str, Any]) -> str:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else ""
