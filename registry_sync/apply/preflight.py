"""Checks made before apply writes anything. Pure: a plan (and the live entries) in,
the reasons to refuse out; an empty list means go ahead.

* :func:`stale_changes` -- whether the live entries a plan touches are still the ones
  it was computed from (by fingerprint), and whether an entry to create now exists.
* :func:`unshown_changes` -- whether each write would do exactly what the plan shows:
  a saved plan is a file anyone could have edited since it was reviewed.
* :func:`unaddressable_changes` -- whether every write names an id a request can
  carry safely (:mod:`registry_sync.schema.ids`).

The safety rails are part of the plan's judgement: :mod:`registry_sync.plan.policy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from registry_sync.errors import ApplyRefused
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.compare import comparable, field_changes, known_part
from registry_sync.plan.model import Action, Change, FieldChange, Plan
from registry_sync.schema.ids import ID_RULE, id_problem, shown_id
from registry_sync.settings.ignore import IgnoreRule

# Writes of who serves a name only: allowed for a read-only definition.
_SERVING_ONLY = frozenset({Action.CREATE, Action.ACTIVATE, Action.DEACTIVATE})

__all__ = ["refusal", "stale_changes", "unaddressable_changes", "unshown_changes"]


def refusal(reasons: Sequence[str], next_step: str) -> ApplyRefused:
    """One error naming every reason, then what to do next."""
    listed = "".join(f"  {reason}\n" for reason in reasons)
    return ApplyRefused(f"apply refused; nothing was written:\n{listed}{next_step}")


def unaddressable_changes(plan: Plan) -> list[str]:
    """The writes of ``plan`` whose id breaks the id rule, each as ``<id, escaped>:
    <why>``; empty when every one can be addressed. A plan made now has none (declared
    ids are checked at their line, live ones left out): a saved plan may."""
    found: list[str] = []
    for change in plan.writes:
        problem = id_problem(change.id)
        if problem is not None:
            found.append(f"{shown_id(change.id)}: the id {problem} ({ID_RULE})")
    return found


def stale_changes(plan: Plan, live: Sequence[LiveEntry]) -> list[str]:
    """The writes of ``plan`` whose live entry is no longer what the plan saw, each as
    ``<id>: <what happened>``; empty when every one is as planned."""
    by_id = {entry.id: entry for entry in live}
    found: list[str] = []
    for change in plan.writes:
        entry = by_id.get(change.id)
        if change.action is Action.CREATE:
            # In the catalog a platform source may define the name: a file defines the
            # organisation's own, which must still be absent.
            if entry is not None and (plan.api != "catalog" or entry.source == "byo"):
                found.append(f"{change.id}: to be created, but it now exists")
            elif change.deactivate is not None and _holder(entry) != change.deactivate:
                found.append(
                    f"{change.id}: to be taken from {change.deactivate}, but {_served(entry)} now"
                )
        elif entry is None:
            found.append(f"{change.id}: to be {_past(change.action)}, but it no longer exists")
        elif entry.fingerprint() != change.live_fingerprint:
            found.append(f"{change.id}: changed since the plan was made")
    return found


def unshown_changes(
    plan: Plan,
    live: Sequence[LiveEntry],
    ignore: Sequence[IgnoreRule] = (),
    server_defaults: Mapping[str, Any] | None = None,
) -> list[str]:
    """The writes of ``plan`` that would not do what the plan shows, each as
    ``<id>: <why>``; empty when every one matches.

    A write to an immutable entry is never allowed. For an update or a replace, the
    field changes are computed again, with the planner's own functions, from the live
    entry and the patch or body apply is about to send, and must equal the ones the
    plan records. Reasons name fields only, never values: a value may be a secret.
    """
    by_id = {entry.id: entry for entry in live}
    found: list[str] = []
    for change in plan.writes:
        entry = by_id.get(change.id)
        if entry is None or change.action in _SERVING_ONLY:
            # A create (or gone: stale_changes says so), or a write of who serves the
            # name, which a read-only definition allows.
            continue
        if entry.immutable:
            found.append(
                f"{change.id}: immutable on the server, and the plan would "
                f"{change.action.value} it; no plan can write it"
            )
            continue
        sent = _sent_changes(change, entry, ignore, server_defaults)
        if sent is not None and _shown(sent) != _shown(change.changes):
            paths = ", ".join(sorted({item.path for item in sent})) or "nothing"
            shown = ", ".join(sorted({item.path for item in change.changes})) or "nothing"
            found.append(
                f"{change.id}: what apply would send changes {paths}, but the plan shows {shown}"
            )
    return found


def _sent_changes(
    change: Change,
    entry: LiveEntry,
    ignore: Sequence[IgnoreRule],
    server_defaults: Mapping[str, Any] | None,
) -> tuple[FieldChange, ...] | None:
    """What ``change`` would change in ``entry``, compared as the planner compares."""
    if change.action is Action.UPDATE and change.patch is not None:
        _, have = comparable(change.id, entry.definition, entry, ignore, server_defaults)
        after = dict(have)
        for key, value in change.patch.items():
            if value is None:  # null removes the field
                after.pop(key, None)
            else:
                after[key] = value
        wanted, _ = comparable(change.id, after, entry, ignore, server_defaults)
    elif change.action is Action.REPLACE and change.body is not None:
        wanted, have = comparable(
            change.id, known_part(_as_declared(change.body, entry)), entry, ignore, server_defaults
        )
    else:
        return None
    return () if wanted == have else field_changes(have, wanted)


def _as_declared(body: Mapping[str, Any], entry: LiveEntry) -> Mapping[str, Any]:
    # The planner stamps ``created`` on a body whose file has none: with the live value
    # (no change), or with the time of planning when the live entry has none.
    if "created" in body and "created" not in entry.definition:
        return {key: value for key, value in body.items() if key != "created"}
    return body


def _shown(changes: Sequence[FieldChange]) -> list[tuple[str, str, Any, Any]]:
    return sorted(
        ((item.path, item.kind.value, item.before, item.after) for item in changes),
        key=lambda item: item[0],
    )


def _holder(entry: LiveEntry | None) -> str | None:
    return None if entry is None or entry.activation is None else entry.activation.active


def _served(entry: LiveEntry | None) -> str:
    holder = _holder(entry)
    return "no source serves it" if holder is None else f"{holder} serves it"


def _past(action: Action) -> str:
    return {
        Action.UPDATE: "updated",
        Action.REPLACE: "replaced",
        Action.ACTIVATE: "activated",
        Action.DEACTIVATE: "deactivated",
    }.get(action, "deleted")
