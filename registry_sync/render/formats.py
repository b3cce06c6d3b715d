"""A ``--format`` name to the renderer that writes it: the plan's and several
environments' plans here; the apply result's, health's and the graph's tables sit
beside their renderers (:mod:`~registry_sync.render.result`,
:mod:`~registry_sync.render.health`, :mod:`~registry_sync.render.graph`), so that a plan
never imports what only apply needs. Commands look a format up instead of switching
on its name."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from registry_sync.plan.document import render_json
from registry_sync.plan.model import Plan
from registry_sync.render.environments import (
    render_environments_json,
    render_environments_markdown,
    render_environments_text,
)
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text

__all__ = ["ENVIRONMENTS_FORMATS", "PLAN_FORMATS", "View"]


@dataclass(frozen=True)
class View:
    """How a person asked to see a document: colour, one line per entry, and (for a
    pull-request comment cut to size) where the full plan is."""

    color: bool = False
    compact: bool = False
    artifact_hint: str | None = None


PLAN_FORMATS: Mapping[str, Callable[[Plan, View], str]] = {
    "text": lambda plan, view: render_text(plan, color=view.color, compact=view.compact),
    "json": lambda plan, _view: render_json(plan),
    "markdown": lambda plan, view: render_markdown(plan, artifact_hint=view.artifact_hint),
}
"""The plan's formats: ``plan --format``."""

ENVIRONMENTS_FORMATS: Mapping[str, Callable[[Sequence[Plan], View], str]] = {
    "text": lambda plans, view: render_environments_text(
        plans, color=view.color, compact=view.compact
    ),
    "json": lambda plans, _view: render_environments_json(plans),
    "markdown": lambda plans, view: render_environments_markdown(
        plans, artifact_hint=view.artifact_hint
    ),
}
"""Several environments' plans in one document: ``plan --env all --format``."""
