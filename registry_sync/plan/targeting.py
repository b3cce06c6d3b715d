"""``--target``: narrow a plan to the ids matching some patterns. Pure: no I/O.

Like terraform's ``-target``, only matching ids are compared, planned and applied;
the plan records its patterns (so every renderer says it is partial) and how many
mutable live entries it left out (so the delete-all rail judges the whole registry,
not the subset).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.errors import ConfigError
from registry_sync.live.entries import LiveEntry

__all__ = ["Selection", "matches", "select"]


@dataclass(frozen=True)
class Selection:
    """The declared definitions and live entries a targeted plan compares, and the
    number of mutable live entries it leaves out."""

    desired: tuple[DesiredDefinition, ...]
    live: tuple[LiveEntry, ...]
    untargeted: int


def matches(model_id: str, patterns: Iterable[str]) -> bool:
    """True when ``model_id`` equals a pattern or matches it as a glob (``*``, ``?``,
    ``[...]``), case-sensitively."""
    return any(model_id == p or fnmatch.fnmatchcase(model_id, p) for p in patterns)


def select(
    patterns: Sequence[str], desired: Sequence[DesiredDefinition], live: Sequence[LiveEntry]
) -> Selection:
    """Keep the ids matching any pattern; raises :class:`ConfigError` naming every
    pattern that matches no declared or live id (a typo must never read as "No changes")."""
    ids = {definition.id for definition in desired} | {entry.id for entry in live}
    unmatched = [p for p in dict.fromkeys(patterns) if not any(matches(i, [p]) for i in ids)]
    if unmatched:
        named = ", ".join(repr(p) for p in unmatched)
        raise ConfigError(
            f"--target {named} {'matches' if len(unmatched) == 1 else 'match'} no id "
            "declared in the models folder or live in the registry; give an exact id or a "
            "glob such as 'openai:*' (ids look like namespace:name)"
        )
    kept_live = tuple(entry for entry in live if matches(entry.id, patterns))
    return Selection(
        desired=tuple(d for d in desired if matches(d.id, patterns)),
        live=kept_live,
        untargeted=sum(1 for entry in live if not entry.immutable) - _mutable(kept_live),
    )


def _mutable(entries: Iterable[LiveEntry]) -> int:
    return sum(1 for entry in entries if not entry.immutable)
