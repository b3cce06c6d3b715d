"""The definitions one environment gets, as YAML documents each headed by the files
that set it (``render --env NAME``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from registry_sync.operations.environment import EnvironmentDefinition

__all__ = ["render_definitions"]


def render_definitions(environment: str, definitions: Sequence[EnvironmentDefinition]) -> str:
    """A count line, then one ``---`` document per definition, headed by its sources."""
    count = len(definitions)
    parts = [
        f"# Environment {environment}: {count} {'definition' if count == 1 else 'definitions'}\n"
    ]
    for definition in definitions:
        parts.append(f"---\n# {definition.id} from {', '.join(definition.sources)}\n")
        parts.append(
            yaml.safe_dump(dict(definition.body), sort_keys=False, allow_unicode=True, width=100)
        )
    return "".join(parts)
