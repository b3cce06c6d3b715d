"""Health in the plan: a changed entry the registry reports down is marked everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import GOLDEN

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.errors import PlanFileError
from registry_sync.live.entries import LiveEntry, LiveHealth
from registry_sync.plan.document import plan_document, render_json
from registry_sync.plan.model import Action, Plan
from registry_sync.plan.planfile import read_plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text
from registry_sync.testing import minimal_definition

DOWN = LiveHealth(False, 1735689600000, "upstream 502 from https://llm.example.com/v1")
UP = LiveHealth(True, 1735689600000, None)


def live(model_id: str, health: LiveHealth | None, **fields: object) -> LiveEntry:
    return LiveEntry(
        model_id, False, "database", minimal_definition(model_id, **fields), 1, health=health
    )


def desired(model_id: str, **fields: object) -> DesiredDefinition:
    return DesiredDefinition(
        model_id, minimal_definition(model_id, **fields), f"models/{model_id}.yaml", 1
    )


def plan() -> Plan:
    entries = [
        live("m:down", DOWN, rpm=1),
        live("m:up", UP, rpm=1),
        live("m:same-down", DOWN),
        live("m:never", None, rpm=1),
    ]
    wanted = [
        desired("m:down", rpm=2),
        desired("m:up", rpm=2),
        desired("m:same-down"),
        desired("m:never", rpm=2),
    ]
    return build_plan(wanted, entries, PlanOptions(registry="http://registry.test"))


def test_changed_and_down_entries_carry_their_live_health() -> None:
    changes = {c.id: (c.action, c.live_health) for c in plan().changes}

    assert changes == {
        "m:down": (Action.UPDATE, DOWN),
        "m:never": (Action.UPDATE, None),
        "m:same-down": (Action.NO_OP, DOWN),
        "m:up": (Action.UPDATE, UP),
    }
    assert [c.id for c in plan().down] == ["m:down", "m:same-down"]


def test_json_has_live_health_per_action_and_a_saved_plan_keeps_it(tmp_path: Path) -> None:
    document = plan_document(plan())
    health = {a["id"]: a["live_health"] for a in document["actions"]}
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(plan()))

    assert health == {
        "m:down": {
            "is_available": False,
            "last_health_check": 1735689600000,
            "error": "upstream 502 from https://llm.example.com/v1",
        },
        "m:never": None,
        "m:same-down": {
            "is_available": False,
            "last_health_check": 1735689600000,
            "error": "upstream 502 from https://llm.example.com/v1",
        },
        "m:up": {"is_available": True, "last_health_check": 1735689600000, "error": None},
    }
    assert read_plan(saved, registry="http://registry.test").changes == plan().changes


def test_a_saved_plan_with_a_bad_live_health_is_refused(tmp_path: Path) -> None:
    document = plan_document(plan())
    document["actions"][0]["live_health"] = {"is_available": "no"}
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document))

    with pytest.raises(PlanFileError, match=r"actions\[0\]\.live_health\.is_available"):
        read_plan(saved, registry="http://registry.test")


def test_text_marks_the_down_entry() -> None:
    assert render_text(plan()) == (GOLDEN / "plan-down.txt").read_text(encoding="utf-8")


def test_markdown_marks_the_down_entry() -> None:
    assert render_markdown(plan()) == (GOLDEN / "plan-down.md").read_text(encoding="utf-8")


def test_the_compact_plan_marks_the_down_entry() -> None:
    lines = render_text(plan(), compact=True).splitlines()

    assert [line for line in lines if "DOWN NOW" in line] == ["  ~ m:down DOWN NOW  rpm"]
