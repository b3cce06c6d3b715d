"""Renderers: a hand-built plan against reviewed golden files (exact text, ANSI included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_sync.plan import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.render.json import FORMAT_VERSION, plan_document, render_json
from registry_sync.render.text import format_value, render_text, summary_line

GOLDEN = Path(__file__).parent / "golden"


def sample_plan() -> Plan:
    return Plan(
        changes=(
            Change(
                "meetkai:chat",
                Action.UPDATE,
                "2 top-level fields differ",
                file="models/chat.yaml",
                line=1,
                changes=(
                    FieldChange("auth.value", ChangeKind.REMOVED, "(sensitive)", None),
                    FieldChange(
                        "capabilities.modalities.input[1]", ChangeKind.ADDED, None, "image"
                    ),
                    FieldChange("contextWindow", ChangeKind.CHANGED, 8192, 16384),
                ),
                patch={"contextWindow": 16384},
                live_fingerprint="sha256:aa",
            ),
            Change(
                "meetkai:embed",
                Action.REPLACE,
                "removing rpm needs delete and re-create: PATCH cannot remove a field",
                file="models/embed.yaml",
                line=3,
                changes=(FieldChange("rpm", ChangeKind.REMOVED, 60, None, forces_replace=True),),
                body={"id": "meetkai:embed", "provider": "openai", "created": 1},
                live_fingerprint="sha256:bb",
            ),
            Change(
                "meetkai:new",
                Action.CREATE,
                "not in the registry",
                file="models/new.yaml",
                line=1,
                body={"id": "meetkai:new", "provider": "openai-compatible", "hidden": False},
            ),
            Change(
                "meetkai:old",
                Action.DELETE,
                "not declared in models/ and --prune is set",
                live_fingerprint="sha256:cc",
            ),
            Change("meetkai:same", Action.NO_OP, "in sync", file="models/same.yaml", line=1),
            Change(
                "system:chat",
                Action.READ_ONLY,
                "immutable on the server (source 'yaml'): it can never be changed through the API",
                file="models/system.yaml",
                line=1,
                changes=(FieldChange("hidden", ChangeKind.ADDED, None, True),),
                live_fingerprint="sha256:dd",
                conflict=True,
            ),
            Change(
                "system:embed",
                Action.READ_ONLY,
                "immutable on the server; in sync",
                file="models/system.yaml",
                line=9,
            ),
            Change("team:legacy", Action.UNMANAGED, "not declared in models/; left alone"),
        ),
        models_dir="models",
        registry="https://registry.example",
        prune=True,
        immutable_undeclared=4,
    )


def empty_plan(unmanaged: int = 0) -> Plan:
    changes = tuple(Change(f"x:{i}", Action.UNMANAGED, "left alone") for i in range(unmanaged))
    return Plan(changes=changes, models_dir="models", registry="file:r.json")


@pytest.mark.parametrize(("color", "golden"), [(False, "plan.txt"), (True, "plan-color.txt")])
def test_text_matches_golden(color: bool, golden: str) -> None:
    assert render_text(sample_plan(), color=color) == (GOLDEN / golden).read_text(encoding="utf-8")


def test_json_matches_golden() -> None:
    assert render_json(sample_plan()) == (GOLDEN / "plan.json").read_text(encoding="utf-8")


def test_json_document_contract() -> None:
    document = plan_document(sample_plan())
    assert document["format_version"] == FORMAT_VERSION == "1"
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
    }
    assert {a["action"] for a in document["actions"]} == {a.value for a in Action}
    for action in document["actions"]:
        assert set(action) == {
            "id",
            "action",
            "file",
            "line",
            "reason",
            "conflict",
            "changes",
            "body",
            "patch",
            "live_fingerprint",
        }
    json.loads(render_json(sample_plan()))


@pytest.mark.parametrize(
    ("plan", "line"),
    [
        (empty_plan(), "No changes. The registry matches models/."),
        (empty_plan(2), "No changes. The registry matches models/. 2 unmanaged."),
        (
            sample_plan(),
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
