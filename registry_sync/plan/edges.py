"""The reroute graph around a plan: every definition as the registry would hold it
once the plan is applied, and the reroute edges the plan's writes touch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry_sync.plan.model import Action, Plan
from registry_sync.schema.reroutes import RerouteEdge, may_target, rules_of

__all__ = ["definitions_after", "plan_edges"]


def definitions_after(
    plan: Plan, live: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """Every definition as the registry would hold it once ``plan`` is applied: the live
    ones, with created and replaced bodies and updated fields laid over, minus deletes."""
    after: dict[str, Mapping[str, Any]] = dict(live)
    for change in plan.writes:
        if change.action is Action.DELETE:
            after.pop(change.id, None)
        elif change.body is not None:
            after[change.id] = change.body
        elif change.patch is not None:
            after[change.id] = {**live.get(change.id, {}), **change.patch}
    return after


def plan_edges(
    plan: Plan,
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
) -> tuple[RerouteEdge, ...]:
    """The reroute rules touching an entry ``plan`` writes, each marked ``added``,
    ``removed`` or ``kept``, sorted by source, target and trigger."""
    written = {change.id for change in plan.writes}
    if not written:
        return ()

    def touching(definitions: Mapping[str, Mapping[str, Any]]) -> set[tuple[str, str, str]]:
        return {
            (rule.source, rule.target, rule.trigger)
            for model_id, definition in definitions.items()
            if model_id in written or may_target(definition, written)
            for rule in rules_of(model_id, definition)
            if rule.source in written or rule.target in written
        }

    old = touching(before)
    # An entry the plan does not write reads the same after it: only the written
    # ones (gone, or with their new rules) can change which edges touch a write.
    new = {edge for edge in old if edge[0] not in written} | touching(
        {model_id: after[model_id] for model_id in written if model_id in after}
    )
    edges = [RerouteEdge(*key, "kept" if key in new else "removed") for key in sorted(old)] + [
        RerouteEdge(*key, "added") for key in sorted(new - old)
    ]
    return tuple(sorted(edges, key=lambda edge: (edge.source, edge.target, edge.trigger)))
