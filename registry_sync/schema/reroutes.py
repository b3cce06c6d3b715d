"""The reroute graph: which entry reroutes to which, and on what trigger. Pure.

Nodes are registry ids; an edge is one entry of a definition's ``rerouteRules``.
The policy reads it to refuse deleting a target something still reroutes to, the
loader to find cycles, and the renderers to draw it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "RerouteEdge",
    "Rule",
    "find_cycles",
    "graph_edges",
    "may_target",
    "rules_of",
    "trigger_label",
]


@dataclass(frozen=True)
class RerouteEdge:
    """One reroute rule drawn in the plan's picture: ``source`` reroutes to ``target``
    on ``trigger``; ``status`` is ``added``, ``removed`` or ``kept`` by the plan."""

    source: str
    target: str
    trigger: str
    status: str


class Rule(NamedTuple):
    """Rule number ``position`` of ``source``'s ``rerouteRules``: to ``target`` on ``trigger``.

    A named tuple, not a dataclass: one is made per rule of every entry, on every plan.
    """

    source: str
    target: str
    trigger: str
    position: int


def trigger_label(rule: Mapping[str, Any]) -> str:
    """``context-exceeded``, ``error-fallback``, ``input-modality:image``..."""
    trigger = rule.get("trigger")
    if type(trigger) is not dict:
        return "?"
    modality = trigger.get("modality")
    kind = trigger.get("type", "?")
    return str(kind) if modality is None else f"{kind}:{modality}"


def rules_of(model_id: str, definition: Mapping[str, Any]) -> list[Rule]:
    """The reroute rules of one definition, in file order; malformed ones are skipped
    (validation reports them)."""
    found: list[Rule] = []
    rules = definition.get("rerouteRules")
    if not rules or not isinstance(rules, list):
        return found
    for index, rule in enumerate(rules):
        # dict, not Mapping: definitions are parsed JSON or YAML, and this runs per entry.
        if type(rule) is dict and type(rule.get("targetModelId")) is str:
            found.append(Rule(model_id, rule["targetModelId"], trigger_label(rule), index))
    return found


def may_target(definition: Mapping[str, Any], ids: set[str]) -> bool:
    """Whether a rule of ``definition`` may name one of ``ids``: a glance at each
    rule's target, without reading its trigger (most entries touch no write)."""
    rules = definition.get("rerouteRules")
    if not rules or type(rules) is not list:
        return False
    for rule in rules:
        target = rule.get("targetModelId") if type(rule) is dict else None
        if type(target) is str and target in ids:
            return True
    return False


def graph_edges(definitions: Mapping[str, Mapping[str, Any]]) -> tuple[RerouteEdge, ...]:
    """Every reroute rule of ``definitions`` as an edge (status ``kept``), sorted."""
    found = {
        (rule.source, rule.target, rule.trigger)
        for model_id, definition in definitions.items()
        for rule in rules_of(model_id, definition)
    }
    return tuple(RerouteEdge(*key, "kept") for key in sorted(found))


def find_cycles(targets: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle per strongly connected part of the graph that has one, as the ids in
    order (``[a, b]`` for ``a -> b -> a``; ``[a]`` for an entry rerouting to itself),
    starting at the smallest id; sorted. Linear in the size of the graph."""
    graph = _where_cycles_can_be({node: set(edges) for node, edges in targets.items()})
    cycles: list[list[str]] = []
    for part in _strong_parts(graph):
        members = set(part)
        start = min(part)
        if len(part) == 1 and start not in graph.get(start, ()):
            continue
        cycles.append(_cycle_through(graph, members, start))
    return sorted(cycles)


def _where_cycles_can_be(graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """The part of ``graph`` every cycle lies in, edges sorted: a node on a cycle both
    reroutes to and is rerouted to from a node still in it, so the others are peeled
    off until none is left to peel. Most registries reroute to a few fallbacks that
    reroute nowhere: nothing is left, and no search is needed."""
    nodes = {node for node, edges in graph.items() if edges}
    while True:
        targeted = {target for node in nodes for target in graph[node] if target in nodes}
        kept = {node for node in nodes if node in targeted and not graph[node].isdisjoint(targeted)}
        if kept == nodes:
            return {node: sorted(graph[node] & nodes) for node in nodes}
        nodes = kept


def _strong_parts(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    parts: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph.get(node, ())
            if position < len(children):
                work.append((node, position + 1))
                child = children[position]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                parts.append(part)
    return parts


def _cycle_through(graph: Mapping[str, Sequence[str]], members: set[str], start: str) -> list[str]:
    """A shortest cycle from ``start`` back to it, staying inside ``members``."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in graph.get(node, ()):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    return [start]  # unreachable for a strongly connected part with a cycle
