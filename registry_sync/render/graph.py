"""The reroute graph as text for diagram tools: Mermaid ``flowchart`` and Graphviz DOT.

:func:`render_mermaid` and :func:`render_dot` draw a whole graph (``registry-sync
graph``); :func:`plan_diagram` draws the reroute rules touching a plan's changes for
the pull-request comment, which GitHub renders from a ``mermaid`` code block.

Ids and triggers are written as quoted labels with every character outside a small
safe set as an entity, so nothing in them can break the diagram's syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from registry_sync.plan.model import Action, Plan
from registry_sync.schema.reroutes import RerouteEdge

__all__ = ["GRAPH_FORMATS", "MAX_NODES", "plan_diagram", "render_dot", "render_mermaid"]

# Past this many models the picture is unreadable: a note replaces it.
MAX_NODES = 50

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_./@ ")
_ARROWS = {"kept": "-->", "added": "==>", "removed": "-.->"}
_EDGE_COLOURS = {"added": "#1a7f37", "removed": "#cf222e"}
_NODE_CLASSES = {
    Action.DELETE: "deleted",
    Action.CREATE: "created",
    Action.UPDATE: "changed",
    Action.REPLACE: "changed",
}
_CLASS_STYLES = {
    "deleted": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5",
    "created": "fill:#dafbe1,stroke:#1a7f37",
    "changed": "fill:#fff8c5,stroke:#9a6700",
}


def render_mermaid(edges: Sequence[RerouteEdge], classes: Mapping[str, str] | None = None) -> str:
    """A Mermaid ``flowchart LR`` of ``edges``, ending with a newline. Added edges are
    thick and green, removed ones dotted and red, with the status in the label;
    ``classes`` maps ids to ``deleted``, ``created`` or ``changed``."""
    classes = classes or {}
    nodes = _nodes(edges)
    names = {node: f"n{number}" for number, node in enumerate(nodes)}
    lines = ["flowchart LR"]
    lines.extend(f'  {names[node]}["{_mermaid_text(node)}"]' for node in nodes)
    styles: list[str] = []
    for number, edge in enumerate(edges):
        label = edge.trigger if edge.status == "kept" else f"{edge.status}: {edge.trigger}"
        arrow = _ARROWS[edge.status]
        lines.append(
            f'  {names[edge.source]} {arrow}|"{_mermaid_text(label)}"| {names[edge.target]}'
        )
        if edge.status in _EDGE_COLOURS:
            styles.append(f"  linkStyle {number} stroke:{_EDGE_COLOURS[edge.status]}")
    lines.extend(styles)
    used = sorted({classes[node] for node in nodes if node in classes})
    for name in used:
        lines.append(f"  classDef {name} {_CLASS_STYLES[name]}")
        members = ",".join(names[node] for node in nodes if classes.get(node) == name)
        lines.append(f"  class {members} {name}")
    return "\n".join(lines) + "\n"


def render_dot(edges: Sequence[RerouteEdge]) -> str:
    """A Graphviz ``digraph`` of ``edges`` (each labelled with its trigger), ending
    with a newline."""
    lines = ["digraph reroutes {", "  rankdir=LR;", "  node [shape=box];"]
    lines.extend(f"  {_dot_text(node)};" for node in _nodes(edges))
    lines.extend(
        f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)} [label={_dot_text(edge.trigger)}];"
        for edge in edges
    )
    lines.append("}")
    return "\n".join(lines) + "\n"


def plan_diagram(plan: Plan) -> str | None:
    """Markdown picturing how ``plan`` changes the reroute graph: a ``mermaid`` block
    with a legend, a note when more than :data:`MAX_NODES` models are involved, or
    None when no reroute rule changes and none points to a deleted entry."""
    actions = {change.id: change.action for change in plan.writes}
    deleted = {model_id for model_id, action in actions.items() if action is Action.DELETE}
    edges = plan.reroutes
    if not any(edge.status != "kept" or edge.target in deleted for edge in edges):
        return None
    nodes = _nodes(edges)
    if len(nodes) > MAX_NODES:
        return (
            f"The reroute rules this plan touches involve {len(nodes)} models, too many to "
            f"draw (more than {MAX_NODES}); run `registry-sync graph` for the whole graph."
        )
    classes = {node: _NODE_CLASSES[actions[node]] for node in nodes if node in actions}
    legend = (
        "Thick green arrows: rules the plan adds; dotted red arrows: rules it removes; "
        "dashed red boxes: entries it deletes; green boxes: entries it creates; yellow "
        "boxes: entries it changes."
    )
    return f"```mermaid\n{render_mermaid(edges, classes)}```\n\n{legend}"


def _nodes(edges: Sequence[RerouteEdge]) -> list[str]:
    return sorted({edge.source for edge in edges} | {edge.target for edge in edges})


def _mermaid_text(text: str) -> str:
    return "".join(char if char in _SAFE else f"#{ord(char)};" for char in text)


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


GRAPH_FORMATS: Mapping[str, Callable[[Sequence[RerouteEdge]], str]] = {
    "mermaid": render_mermaid,
    "dot": render_dot,
}
"""The reroute graph's formats: ``graph --format``."""
