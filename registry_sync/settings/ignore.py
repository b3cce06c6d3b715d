"""``ignore_fields:`` rules of registry-sync.yaml: field paths the plan does not diff
for some ids. Light on purpose: the planner, the applier and the warm path read it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IgnoreRule"]


@dataclass(frozen=True)
class IgnoreRule:
    """Field paths (dotted, e.g. ``healthCheck`` or ``defaultParams.temperature``) not
    diffed for ids matching ``pattern`` (a glob, ``*`` for all)."""

    pattern: str
    fields: tuple[str, ...]
