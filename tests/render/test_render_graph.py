"""The reroute graph drawn: the plan's Mermaid picture (golden), its syntax, DOT, the size limit."""

from __future__ import annotations

import re
from typing import Any

from paths import GOLDEN

from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.plan.policy import Rules, judge
from registry_sync.render.graph import MAX_NODES, plan_diagram, render_dot, render_mermaid
from registry_sync.render.markdown import render_markdown
from registry_sync.schema.reroutes import RerouteEdge


def rule(trigger: str, target: str, modality: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": trigger}
    if modality:
        found["modality"] = modality
    return {"trigger": found, "targetModelId": target}


LIVE: dict[str, dict[str, Any]] = {
    "m:chat": {
        "id": "m:chat",
        "rerouteRules": [rule("error-fallback", "m:old"), rule("context-exceeded", "m:long")],
    },
    "m:old": {"id": "m:old"},
    "m:router": {"id": "m:router", "rerouteRules": [rule("error-fallback", "m:old")]},
    "m:long": {"id": "m:long"},
}


def reroute_plan() -> Plan:
    """m:chat drops its fallback to m:old and gains one to the new m:vision; m:old is
    deleted although m:router still reroutes to it."""
    rules = [rule("context-exceeded", "m:long"), rule("input-modality", "m:vision", "image")]
    plan = Plan(
        changes=(
            Change(
                "m:chat",
                Action.UPDATE,
                "1 top-level field differs",
                file="models/chat.yaml",
                line=1,
                changes=(
                    FieldChange(
                        "rerouteRules",
                        ChangeKind.CHANGED,
                        LIVE["m:chat"]["rerouteRules"],
                        rules,
                    ),
                ),
                patch={"rerouteRules": rules},
                live_fingerprint="sha256:aa",
            ),
            Change("m:long", Action.NO_OP, "in sync", file="models/long.yaml", line=1),
            Change("m:old", Action.DELETE, "not declared", live_fingerprint="sha256:bb"),
            Change("m:router", Action.NO_OP, "in sync", file="models/router.yaml", line=1),
            Change(
                "m:vision",
                Action.CREATE,
                "not in the registry",
                file="models/vision.yaml",
                line=1,
                body={"id": "m:vision"},
            ),
        ),
        models_dir="models",
        registry="https://registry.example",
        prune=True,
    )
    return judge(plan, Rules(), LIVE)


def test_the_reroute_picture_matches_golden() -> None:
    text = render_markdown(reroute_plan())

    assert text == (GOLDEN / "plan-reroute.md").read_text(encoding="utf-8")


def test_the_plan_picture_is_well_formed_mermaid() -> None:
    text = render_markdown(reroute_plan())
    (block,) = re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)

    edges = check_mermaid(block)

    assert edges == {
        ("m:chat", "-->", "context-exceeded", "m:long"),
        ("m:chat", "-.->", "removed: error-fallback", "m:old"),
        ("m:chat", "==>", "added: input-modality:image", "m:vision"),
        ("m:router", "-->", "error-fallback", "m:old"),
    }
    assert "class n2 deleted" in block


def test_odd_ids_cannot_break_the_diagram() -> None:
    edges = (RerouteEdge('a"]:::x\n', "b|<c>", 'input-modality:"', "added"),)

    block = render_mermaid(edges)

    assert check_mermaid(block) == {('a"]:::x\n', "==>", 'added: input-modality:"', "b|<c>")}
    assert render_dot(edges) == (
        "digraph reroutes {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        '  "a\\"]:::x\\n";\n'
        '  "b|<c>";\n'
        '  "a\\"]:::x\\n" -> "b|<c>" [label="input-modality:\\""];\n'
        "}\n"
    )


def test_no_picture_when_no_reroute_rule_changes() -> None:
    live = {"m:a": {"id": "m:a", "rerouteRules": [rule("error-fallback", "m:b")]}, "m:b": {}}
    renamed = Plan(
        changes=(
            Change("m:a", Action.UPDATE, "1", patch={"displayName": "A"}, live_fingerprint="x"),
            Change("m:b", Action.NO_OP, "in sync"),
        ),
        models_dir="models",
        registry="r",
    )

    judged = judge(renamed, Rules(), live)

    assert judged.reroutes == (RerouteEdge("m:a", "m:b", "error-fallback", "kept"),)
    assert plan_diagram(judged) is None
    assert "mermaid" not in render_markdown(judged)


def test_past_the_node_limit_a_note_replaces_the_picture() -> None:
    count = MAX_NODES + 1
    live = {f"m:{i:02}": {"id": f"m:{i:02}"} for i in range(count)}
    hub = {"id": "m:hub", "rerouteRules": [rule("error-fallback", m) for m in live]}
    plan = Plan(
        changes=(Change("m:hub", Action.CREATE, "new", body=hub),),
        models_dir="models",
        registry="r",
    )

    note = plan_diagram(judge(plan, Rules(), live))

    assert note == (
        f"The reroute rules this plan touches involve {count + 1} models, too many to draw "
        f"(more than {MAX_NODES}); run `registry-sync graph` for the whole graph."
    )


_NODE = re.compile(r'^  (n\d+)\["([^"\n]*)"\]$')
_EDGE = re.compile(r'^  (n\d+) (-->|==>|-\.->)\|"([^"\n]*)"\| (n\d+)$')
_LINK_STYLE = re.compile(r"^  linkStyle (\d+) stroke:#[0-9a-f]{6}$")
_CLASS_DEF = re.compile(r"^  classDef ([a-z]+) ([a-z-]+:[#0-9a-z. ]+)(,[a-z-]+:[#0-9a-z. ]+)*$")
_CLASS = re.compile(r"^  class (n\d+(?:,n\d+)*) ([a-z]+)$")
_ENTITY = re.compile(r"#(\d+);")


def check_mermaid(block: str) -> set[tuple[str, str, str, str]]:
    """Check ``block`` line by line against the subset of Mermaid flowchart syntax we
    emit (a node is declared before use, a link style names an edge, a class is defined
    before it is applied) and return its edges with labels decoded."""
    lines = block.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str, str]] = []
    classes: set[str] = set()
    for line in lines[1:]:
        if match := _NODE.match(line):
            assert match.group(1) not in nodes
            nodes[match.group(1)] = _decode(match.group(2))
        elif match := _EDGE.match(line):
            source, arrow, label, target = match.groups()
            assert source in nodes and target in nodes, line
            edges.append((nodes[source], arrow, _decode(label), nodes[target]))
        elif match := _LINK_STYLE.match(line):
            assert int(match.group(1)) < len(edges), line
        elif match := _CLASS_DEF.match(line):
            classes.add(match.group(1))
        elif match := _CLASS.match(line):
            assert match.group(2) in classes, line
            assert all(node in nodes for node in match.group(1).split(",")), line
        else:
            raise AssertionError(f"not a line of a Mermaid flowchart: {line!r}")
    return set(edges)


def _decode(text: str) -> str:
    assert not re.search(r"[^A-Za-z0-9:\-_./@ #;]", text), text
    return _ENTITY.sub(lambda match: chr(int(match.group(1))), text)
