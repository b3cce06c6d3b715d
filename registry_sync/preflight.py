"""Checks made before apply writes anything. Pure: a plan (and the live entries) in,
the reasons to refuse out; an empty list means go ahead.

* :func:`rail_violations` -- the safety rails: protected entries, ``--max-deletes``,
  and a prune that would empty the registry of every mutable entry.
* :func:`stale_changes` -- whether the live entries a plan touches are still the ones
  it was computed from (by fingerprint), and whether an entry to create now exists.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

from registry_sync.errors import ApplyRefused
from registry_sync.live import LiveEntry
from registry_sync.plan import Action, Plan

__all__ = ["SafetyRails", "conflict_reasons", "rail_violations", "refusal", "stale_changes"]

# The actions of a mutable live entry: its count is the registry's mutable entries.
_MUTABLE_LIVE = frozenset(
    {Action.NO_OP, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.UNMANAGED}
)


@dataclass(frozen=True)
class SafetyRails:
    """What apply refuses. ``protect`` holds ids or glob patterns (``prod:*``) never
    deleted or replaced; ``max_deletes`` caps the deletes of one plan (None: no cap);
    ``allow_delete_all`` permits a plan that deletes every mutable entry."""

    protect: tuple[str, ...] = field(default=())
    max_deletes: int | None = None
    allow_delete_all: bool = False


def refusal(reasons: Sequence[str], next_step: str) -> ApplyRefused:
    """One error naming every reason, then what to do next."""
    listed = "".join(f"  {reason}\n" for reason in reasons)
    return ApplyRefused(f"apply refused; nothing was written:\n{listed}{next_step}")


def conflict_reasons(plan: Plan) -> list[str]:
    """One reason per read-only conflict: a plan with any is never applied."""
    return [
        f"{change.id} is immutable on the server and its file differs: it can never be "
        "written; make the file match the server or remove it"
        for change in plan.conflicts
    ]


def rail_violations(plan: Plan, rails: SafetyRails) -> list[str]:
    """Why ``plan`` must not be applied under ``rails``; empty when it may be."""
    reasons: list[str] = []
    for change in plan.changes:
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        patterns = [p for p in rails.protect if fnmatch.fnmatchcase(change.id, p)]
        if patterns:
            verb = "delete" if change.action is Action.DELETE else "replace (delete and re-create)"
            reasons.append(
                f"{change.id} is protected (protect: {', '.join(map(repr, patterns))}) and the "
                f"plan would {verb} it"
            )
    deletes = plan.count(Action.DELETE)
    if rails.max_deletes is not None and deletes > rails.max_deletes:
        reasons.append(
            f"the plan deletes {deletes} {_entries(deletes)}, more than --max-deletes "
            f"{rails.max_deletes}"
        )
    mutable = sum(1 for change in plan.changes if change.action in _MUTABLE_LIVE)
    if deletes and deletes == mutable and not rails.allow_delete_all:
        reasons.append(
            f"the plan deletes every mutable entry in the registry ({deletes} of {mutable}), "
            f"the usual result of an empty or mistyped models folder ({plan.models_dir}/); "
            "pass --allow-delete-all if that is really intended"
        )
    return reasons


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


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"
