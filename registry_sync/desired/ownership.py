"""``owns:``: the id globs a repository manages, so teams can share one registry.

With ``owns`` empty every id is the repository's (the behaviour without the key).
Live entries outside it are invisible to the plan: never listed as unmanaged, never
deleted by ``--prune``. A file declaring an id outside it is an error at its line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from registry_sync.desired.loader import DesiredDefinition, line_of
from registry_sync.schema.problems import Problem

__all__ = ["is_owned", "outside_owns"]


def is_owned(model_id: str, owns: Sequence[str]) -> bool:
    """True when ``owns`` is empty or one of its globs matches ``model_id`` (case-sensitive)."""
    return not owns or any(fnmatch.fnmatchcase(model_id, pattern) for pattern in owns)


def outside_owns(
    definitions: Sequence[DesiredDefinition], owns: Sequence[str], config_file: str
) -> list[Problem]:
    """A problem at the ``id`` line of each definition whose id ``owns`` does not cover."""
    if not owns:
        return []
    patterns = ", ".join(owns)
    return [
        Problem(
            definition.file,
            line_of(definition.file, definition.line, ("id",)),
            "id",
            f"{definition.id!r} is outside owns: [{patterns}] of {config_file}; "
            "another team's id, or add a pattern for it to owns",
        )
        for definition in definitions
        if not is_owned(definition.id, owns)
    ]
