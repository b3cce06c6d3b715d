"""Renderers: a hand-built plan against reviewed golden files (exact text, ANSI included)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from paths import GOLDEN

from registry_sync import __version__
from registry_sync.plan.document import FORMAT_VERSION, plan_document, render_json
from registry_sync.plan.model import Action, Change, Plan
from registry_sync.render.requests import render_requests
from registry_sync.render.text import created_fields, format_value, render_text, summary_line
from registry_sync.testing import review_plan


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
    # Every action the registry API can plan (activation is the catalog API's).
    catalog_only = {Action.ACTIVATE.value, Action.DEACTIVATE.value}
    assert {a["action"] for a in document["actions"]} == {a.value for a in Action} - catalog_only
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


def partial_plan() -> Plan:
    return dataclasses.replace(review_plan(), targets=("meetkai:*", "acme:chat"), untargeted=4)


def test_compact_partial_text_matches_golden() -> None:
    rendered = render_text(partial_plan(), compact=True)
    assert rendered == (GOLDEN / "plan-compact-partial.txt").read_text(encoding="utf-8")


def test_partial_plan_says_so_in_json() -> None:
    document = plan_document(partial_plan())
    assert document["partial"] is True
    assert document["targets"] == ["meetkai:*", "acme:chat"]
    assert document["untargeted"] == 4
    full = plan_document(review_plan())
    assert (full["partial"], full["targets"], full["untargeted"]) == (False, [], 0)


def test_partial_plan_without_changes_does_not_claim_the_registry_matches() -> None:
    plan = dataclasses.replace(empty_plan(), targets=("x:*",), untargeted=2)
    assert summary_line(plan) == "No changes. The targeted entries match models/."
    assert render_text(plan).startswith(
        "Partial plan: only ids matching --target x:* are planned; "
        "2 other mutable live entries were not compared.\n"
    )


def test_header_names_a_snapshot_as_offline() -> None:
    plan = Plan(
        changes=(Change("a:b", Action.DELETE, "gone"),), models_dir="models", registry="file:r.json"
    )
    assert render_text(plan).startswith(
        "Plan against the snapshot r.json (offline; cannot be applied) (registry API):\n"
    )


def test_create_flattens_nested_objects_to_paths() -> None:
    body = {
        "id": "a:b",
        "capabilities": {"modalities": {"input": ["text", "image"]}},
        "rateLimits": [{"rpm": 1}],
        "defaultParams": {},
    }
    assert created_fields(body) == [
        ("id", '"a:b"'),
        ("capabilities.modalities.input", '["text", "image"]'),
        ("rateLimits[0].rpm", "1"),
        ("defaultParams", "{}"),
        ("created", "(set at apply)"),
    ]


def test_dry_run_requests_render_exactly() -> None:
    plan = Plan(
        changes=(
            Change("a:new", Action.CREATE, "new", body={"id": "a:new", "auth": {"value": "x"}}),
            Change("a:re", Action.REPLACE, "asked", body={"id": "a:re", "created": 5}),
            Change("a:up", Action.UPDATE, "1 field", patch={"rpm": None}),
            Change("a:in-sync", Action.NO_OP, "in sync"),
        ),
        models_dir="models",
        registry="https://registry.example",
    )
    assert render_requests(plan) == (
        "Dry run: apply would send 4 requests:\n"
        "\n"
        "  POST /api/v1/llm/models/registry\n"
        "    {\n"
        '      "id": "a:new",\n'
        '      "auth": {\n'
        '        "value": (sensitive)\n'
        "      },\n"
        '      "created": (set at apply)\n'
        "    }\n"
        "\n"
        "  DELETE /api/v1/llm/models/registry/a%3Are\n"
        "\n"
        "  POST /api/v1/llm/models/registry\n"
        "    {\n"
        '      "id": "a:re",\n'
        '      "created": 5\n'
        "    }\n"
        "\n"
        "  PATCH /api/v1/llm/models/registry/a%3Aup\n"
        "    {\n"
        '      "rpm": null\n'
        "    }\n"
        "\n"
        "Nothing was written (--dry-run).\n"
    )
    assert render_requests(empty_plan()) == "Dry run: apply would send nothing.\n"
