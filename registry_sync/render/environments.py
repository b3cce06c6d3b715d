"""Plans of several environments (``plan --env all``) in one text, JSON or Markdown.

The JSON is one document, format version ``"1"``::

    {
      "format_version": "1",
      "tool": {"name": "registry-sync", "version": "..."},
      "environments": [<a format version 2 plan document, with its "environment">, ...]
    }

in the order of ``environments:`` in registry-sync.yaml (the order to apply them).
``apply`` reads only single-environment plans: save one per environment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from registry_sync._version import __version__
from registry_sync.plan.document import plan_document
from registry_sync.plan.model import Plan
from registry_sync.render.markdown import COMMENT_LIMIT, MARKER, render_markdown
from registry_sync.render.text import render_text, summary_line

__all__ = [
    "ENVIRONMENTS_FORMAT_VERSION",
    "render_environments_json",
    "render_environments_markdown",
    "render_environments_text",
]

ENVIRONMENTS_FORMAT_VERSION = "1"
# Room for the headline and each section's <details> wrapping.
_FRAME = 200


def render_environments_text(
    plans: Sequence[Plan], *, color: bool = False, compact: bool = False
) -> str:
    """One section per environment, each headed by its name, separated by a blank line."""
    return "\n".join(render_text(plan, color=color, compact=compact) for plan in plans)


def render_environments_json(plans: Sequence[Plan]) -> str:
    """The environments document, indented, ending with a newline."""
    document = {
        "format_version": ENVIRONMENTS_FORMAT_VERSION,
        "tool": {"name": "registry-sync", "version": __version__},
        "environments": [plan_document(plan) for plan in plans],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_environments_markdown(
    plans: Sequence[Plan], *, limit: int = COMMENT_LIMIT, artifact_hint: str | None = None
) -> str:
    """One comment: a collapsible section per environment, its summary in the headline
    (open when it has changes); each section gets an equal share of ``limit``."""
    share = max((limit - _FRAME * (len(plans) + 1)) // max(len(plans), 1), 0)
    drifting = sum(plan.has_changes for plan in plans)
    lines = [
        MARKER,
        "### registry-sync plan",
        "",
        f"**{len(plans)} environments, {drifting} with changes.**",
        "",
    ]
    for plan in plans:
        body = render_markdown(plan, limit=share, artifact_hint=artifact_hint)
        # The section has its own headline: drop the marker and the per-plan heading.
        body = body.removeprefix(MARKER + "\n").removeprefix("### registry-sync plan\n")
        opened = " open" if plan.has_changes or plan.violations else ""
        lines.append(
            f"<details{opened}><summary><b>{plan.environment}</b>: {summary_line(plan)}</summary>"
        )
        lines.extend(["", body.rstrip("\n"), "", "</details>", ""])
    return "\n".join(lines)
