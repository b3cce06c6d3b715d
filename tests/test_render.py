"""Renderers: a hand-built plan against reviewed golden files (exact text, ANSI included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_sync import __version__
from registry_sync.plan import Action, Change, Plan
from registry_sync.render.json import FORMAT_VERSION, plan_document, render_json
from registry_sync.render.text import format_value, render_text, summary_line
from registry_sync.testing import review_plan

GOLDEN = Path(__file__).parent / "golden"


def empty_plan(unmanaged: int = 0) -> Plan:
    changes = tuple(Change(f"x:{i}", Action.UNMANAGED, "left alone") for i in range(unmanaged))
    return Plan(changes=changes, models_dir="models", registry="file:r.json")


@pytest.mark.parametrize(("color", "golden"), [(False, "plan.txt"), (True, "plan-color.txt")])
def test_text_matches_golden(color: bool, golden: str) -> None:
    assert render_text(review_plan(), color=color) == (GOLDEN / golden).read_text(encoding="utf-8")


def test_json_matches_golden() -> None:
    rendered = render_json(review_plan())
    # The tool's version comes from git (setuptools-scm); the golden file says 0.1.0.
    mark = f'"name": "registry-sync",\n    "version": "{__version__}"'
    assert mark in rendered
    rendered = rendered.replace(mark, '"name": "registry-sync",\n    "version": "0.1.0"', 1)
    assert rendered == (GOLDEN / "plan.json").read_text(encoding="utf-8")


def test_json_document_contract() -> None:
    document = plan_document(review_plan())
    assert document["format_version"] == FORMAT_VERSION == "2"
    assert document["summary"] == {
        "create": 1,
        "update": 1,
        "replace": 1,
        "delete": 1,
        "no-op": 1,
        "read-only": 2,
        "unmanaged": 1,
        "conflict": 1,
        "immutable-undeclared": 4,
        "risk": {"safe": 1, "breaking": 1, "destructive": 2},
    }
    assert document["violations"] == [
        {
            "rule": "read-only-conflict",
            "id": "system:chat",
            "message": "system:chat is immutable on the server and its file differs: it can "
            "never be written; make the file match the server or remove it",
        }
    ]
    assert {a["action"] for a in document["actions"]} == {a.value for a in Action}
    for action in document["actions"]:
        assert set(action) == {
            "id",
            "action",
            "file",
            "line",
            "reason",
            "conflict",
            "risk",
            "risk_reasons",
            "changes",
            "body",
            "patch",
            "live_fingerprint",
            "live_health",
        }
    json.loads(render_json(review_plan()))


@pytest.mark.parametrize(
    ("plan", "line"),
    [
        (empty_plan(), "No changes. The registry matches models/."),
        (empty_plan(2), "No changes. The registry matches models/. 2 unmanaged."),
        (
            review_plan(),
            "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete. "
            "1 read-only conflict, 1 unmanaged.",
        ),
    ],
)
def test_summary_line(plan: Plan, line: str) -> None:
    assert summary_line(plan) == line
    assert line in render_text(plan)


def test_no_changes_text_has_no_blocks() -> None:
    assert render_text(empty_plan()) == "No changes. The registry matches models/.\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("(sensitive)", "(sensitive)"),
        ({"a": "(sensitive)", "b": 1}, '{"a": (sensitive), "b": 1}'),
        ("text", '"text"'),
        (True, "true"),
        (None, "null"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


def test_unknown_live_fields_are_named_in_every_format() -> None:
    plan = Plan(
        changes=(),
        models_dir="models",
        registry="r",
        unknown_live_fields=("priority", "routing"),
    )
    line = (
        "Not compared: live fields this version of registry-sync does not know: priority, routing."
    )
    assert render_text(plan).endswith(line + "\n")
    assert plan_document(plan)["unknown_live_fields"] == ["priority", "routing"]
