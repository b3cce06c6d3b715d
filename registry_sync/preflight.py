"""Checks made before apply writes anything. Pure: a plan (and the live entries) in,
the reasons to refuse out; an empty list means go ahead.

* :func:`stale_changes` -- whether the live entries a plan touches are still the ones
  it was computed from (by fingerprint), and whether an entry to create now exists.

The safety rails are part of the plan's judgement: :mod:`registry_sync.policy`.
"""

from __future__ import annotations

from collections.abc import Sequence

from registry_sync.errors import ApplyRefused
from registry_sync.live import LiveEntry
from registry_sync.plan import Action, Plan

__all__ = ["refusal", "stale_changes"]


def refusal(reasons: Sequence[str], next_step: str) -> ApplyRefused:
    """One error naming every reason, then what to do next."""
    listed = "".join(f"  {reason}\n" for reason in reasons)
    return ApplyRefused(f"apply refused; nothing was written:\n{listed}{next_step}")


def stale_changes(plan: Plan, live: Sequence[LiveEntry]) -> list[str]:
    """The writes of ``plan`` whose live entry is no longer what the plan saw, each as
    ``<id>: <what happened>``; empty when every one is as planned."""
    by_id = {entry.id: entry for entry in live}
    found: list[str] = []
    for change in plan.writes:
        entry = by_id.get(change.id)
        if change.action is Action.CREATE:
            if entry is not None:
                found.append(f"{change.id}: to be created, but it now exists")
        elif entry is None:
            found.append(f"{change.id}: to be {_past(change.action)}, but it no longer exists")
        elif entry.fingerprint() != change.live_fingerprint:
            found.append(f"{change.id}: changed since the plan was made")
    return found


def _past(action: Action) -> str:
    return {Action.UPDATE: "updated", Action.REPLACE: "replaced"}.get(action, "deleted")
