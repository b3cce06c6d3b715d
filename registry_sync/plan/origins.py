"""A plan made for an environment, pointed at the overlay lines that set its values:
a field an overlay changed is shown at the overlay's line, not the model file's."""

from __future__ import annotations

import dataclasses

from registry_sync.desired.loader import DesiredDefinition, line_of
from registry_sync.desired.overlay import origin_of
from registry_sync.plan.model import Plan

__all__ = ["point_at_origins"]


def point_at_origins(plan: Plan, definitions: tuple[DesiredDefinition, ...]) -> Plan:
    """``plan`` with each field change an overlay set pointing at its overlay line."""
    by_id = {definition.id: definition for definition in definitions if definition.origins}
    if not by_id:
        return plan
    changes = []
    for change in plan.changes:
        definition = by_id.get(change.id)
        if definition is None or not change.changes:
            changes.append(change)
            continue
        fields = []
        for field_change in change.changes:
            origin = origin_of(definition, field_change.path)
            if origin is None:
                fields.append(field_change)
            else:
                file, line, path = origin
                where = f"{file}:{line_of(file, line, path)}"
                fields.append(dataclasses.replace(field_change, origin=where))
        changes.append(dataclasses.replace(change, changes=tuple(fields)))
    return dataclasses.replace(plan, changes=tuple(changes))
