"""Activation in the catalog generation: which source serves each name the repository
declares. Pure: a change of the planner (and the live entry) in, the change with its
activation writes out.

A declared model is served from ``byo`` unless ``activation.inactive`` keeps it
defined but not active; ``activation.activate`` names platform models (``serving``,
``cluster``) the repository serves without owning their definitions. A name another
source serves is taken from it only where ``activation.switch`` says so (a deactivate
then an activate, breaking); otherwise the change records the holder and the policy
refuses the plan. Names the repository does not declare are never deactivated.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.model import Action, Change

__all__ = ["BYO", "activation_problems", "plan_platform_name", "with_activation"]

BYO = "byo"
# The sources a repository may serve a platform name from (byo names are declared).
PLATFORM_SOURCES = ("serving", "cluster")


def activation_problems(
    desired: Sequence[DesiredDefinition],
    live: Sequence[LiveEntry],
    activate: Sequence[tuple[str, str]],
) -> list[str]:
    """Why the names of ``activation.activate`` cannot be served as asked: a name a
    model file declares too (the file's byo definition is what serves it), or a
    source that does not define the name. Empty when all can."""
    declared = {definition.id for definition in desired}
    by_id = {entry.id: entry for entry in live}
    found = []
    for name, source in activate:
        entry = by_id.get(name)
        sources = () if entry is None or entry.activation is None else entry.activation.sources
        if name in declared:
            found.append(
                f"activation.activate: {name} is declared in a model file too; a declared "
                "model is served from its own (byo) definition: remove one of the two"
            )
        elif source not in sources:
            defined = f"only from {', '.join(sources)}" if sources else "by no source"
            found.append(
                f"activation.activate: {name} is not defined by {source} in the catalog "
                f"(it is defined {defined}); check the name and the source"
            )
    return found


def with_activation(
    change: Change, entry: LiveEntry | None, *, inactive: Sequence[str], switch: Sequence[str]
) -> Change:
    """``change`` (a declared model's) with the activation writes that serve it from
    ``byo``, or keep it unserved where ``inactive`` says so; a name another source
    serves is taken from it only when it matches ``switch``."""
    if change.action is Action.READ_ONLY and change.conflict:
        return change  # nothing is written while the definition conflicts
    holder = None if entry is None or entry.activation is None else entry.activation.active
    wanted = not _matches(change.id, inactive)
    if change.action is Action.REPLACE:
        # Deleting a definition deactivates its name: a replace activates it again.
        holder = None if holder == BYO else holder
    if not wanted:
        return _stamped(_deactivated(change), entry) if holder == BYO else change
    if holder == BYO:
        return change  # the bulk of a registry: no write added, nothing to digest
    if holder is None:
        return _stamped(_activated(change, BYO, reason="not active"), entry)
    if _matches(change.id, switch):
        taken = _activated(change, BYO, reason=f"served from {holder}", take_from=holder)
        return _stamped(taken, entry)
    return dataclasses.replace(change, held_by=holder)


def _stamped(change: Change, entry: LiveEntry | None) -> Change:
    """``change`` with the digest of ``entry`` when it writes to a live name and has
    none yet: apply checks the name is still served as planned before it writes."""
    if entry is None or change.live_fingerprint is not None or change.action is Action.CREATE:
        return change
    return dataclasses.replace(change, live_fingerprint=entry.fingerprint())


def plan_platform_name(
    name: str, source: str, entry: LiveEntry | None, *, switch: Sequence[str]
) -> Change:
    """The change that serves platform name ``name`` from ``source``
    (``activation.activate``); :func:`activation_problems` has checked that the
    source defines it. A holder is replaced only when ``name`` matches ``switch``."""
    holder = None if entry is None or entry.activation is None else entry.activation.active
    base = Change(name, Action.NO_OP, f"served from {source} (activation.activate)")
    if holder == source:
        return base
    base = _stamped(base, entry)
    if holder is None:
        return _activated(base, source, reason="not active")
    if _matches(name, switch):
        return _activated(base, source, reason=f"served from {holder}", take_from=holder)
    return dataclasses.replace(base, held_by=holder)


def _activated(change: Change, source: str, *, reason: str, take_from: str | None = None) -> Change:
    """``change`` that also activates the name from ``source`` (after deactivating
    ``take_from``, the name's holder, for a switch)."""
    action = Action.ACTIVATE if change.action in (Action.NO_OP, Action.READ_ONLY) else change.action
    why = change.reason
    if action is Action.ACTIVATE:
        verb = f"take the name from {take_from}" if take_from else "activate it"
        why = f"{reason}; {verb} (from {source})"
    return dataclasses.replace(
        change, action=action, reason=why, activate=source, deactivate=take_from
    )


def _deactivated(change: Change) -> Change:
    """``change`` that also stops serving the name (``activation.inactive``)."""
    action = (
        Action.DEACTIVATE if change.action in (Action.NO_OP, Action.READ_ONLY) else change.action
    )
    why = change.reason
    if action is Action.DEACTIVATE:
        why = "active, but activation.inactive keeps it defined and not served"
    return dataclasses.replace(change, action=action, reason=why, deactivate=BYO)


def _matches(model_id: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(model_id, pattern) for pattern in patterns)
