"""The health part of the apply report, in text and JSON (exact text)."""

from __future__ import annotations

import json

from registry_sync.apply.applier import ApplyResult, EntryResult, Outcome
from registry_sync.apply.health import EntryHealth, HealthReport, HealthState, ModelHealth, Rollback
from registry_sync.plan.model import Action
from registry_sync.render.health import (
    render_health_json,
    render_health_markdown,
    render_health_text,
)
from registry_sync.render.result import render_result_json, render_result_text

RESULT = ApplyResult(
    "http://registry.test",
    (
        EntryResult("a:new", Action.CREATE, Outcome.DONE, "created", wrote=True),
        EntryResult("b:fine", Action.UPDATE, Outcome.DONE, "updated", wrote=True),
        EntryResult("c:down", Action.UPDATE, Outcome.DONE, "updated", wrote=True),
    ),
)
PROBED = (
    EntryHealth("a:new", Action.CREATE, HealthState.NOT_PROBED, "the probe failed: timed out"),
    EntryHealth("b:fine", Action.UPDATE, HealthState.HEALTHY, None, 1704067200000),
)
DOWN = EntryHealth("c:down", Action.UPDATE, HealthState.UNHEALTHY, "upstream 502", 1704067200001)
HEAD = """
Apply report:
  + a:new: created
  ~ b:fine: updated
  ~ c:down: updated

Apply complete: 1 created, 2 updated, 0 replaced, 0 deleted.

Health after apply:
  not probed a:new: the probe failed: timed out
  healthy    b:fine
"""


def test_an_unhealthy_entry_kept_says_what_to_do_next() -> None:
    text = render_result_text(RESULT, health=HealthReport((*PROBED, DOWN)))

    assert text == HEAD + (
        "  UNHEALTHY  c:down: upstream 502\n"
        "\n"
        "Unhealthy after apply: c:down. Fix what the error names (baseUrl, the key "
        "variable, the upstream) in models/ and apply again, or apply with "
        "--rollback-on-unhealthy to put unhealthy entries back as they were.\n"
    )


def test_a_rolled_back_entry_says_how_and_that_the_rest_stays() -> None:
    rolled = EntryHealth(
        DOWN.id,
        DOWN.action,
        DOWN.state,
        DOWN.error,
        DOWN.checked_at,
        Rollback("patch", True, "restored"),
    )
    text = render_result_text(RESULT, health=HealthReport((*PROBED, rolled)))

    assert text == HEAD + (
        "  UNHEALTHY  c:down: upstream 502; rolled back (patch): restored\n"
        "\n"
        "Rolled back: c:down. They are as they were before this apply; the other changes "
        "stay applied. Fix models/ and apply again.\n"
    )


def test_a_failed_rollback_is_shouted() -> None:
    failed = EntryHealth(
        DOWN.id,
        DOWN.action,
        DOWN.state,
        DOWN.error,
        DOWN.checked_at,
        Rollback("patch", False, "PATCH answered 500"),
    )
    text = render_result_text(RESULT, health=HealthReport((failed,)))

    assert text.endswith(
        "  UNHEALTHY  c:down: upstream 502; ROLLBACK FAILED (patch): PATCH answered 500\n"
        "\n"
        "Unhealthy after apply: c:down; a rollback FAILED. Run `registry-sync plan` to see "
        "what the registry holds now, and put it right by hand or apply again.\n"
    )


def test_json_carries_the_health_report_or_null() -> None:
    rolled = EntryHealth(
        DOWN.id,
        DOWN.action,
        DOWN.state,
        DOWN.error,
        DOWN.checked_at,
        Rollback("patch", True, "restored"),
    )
    document = json.loads(render_result_json(RESULT, HealthReport((PROBED[1], rolled))))

    assert json.loads(render_result_json(RESULT))["health"] is None
    assert document["health"] == [
        {
            "id": "b:fine",
            "action": "update",
            "state": "healthy",
            "error": None,
            "checked_at": 1704067200000,
            "rollback": None,
        },
        {
            "id": "c:down",
            "action": "update",
            "state": "unhealthy",
            "error": "upstream 502",
            "checked_at": 1704067200001,
            "rollback": {"how": "patch", "succeeded": True, "detail": "restored"},
        },
    ]


ROWS = (
    ModelHealth("a:down", False, 1735689600000, "upstream | 502"),
    ModelHealth("b:absent-model", None, None, "not in the registry"),
    ModelHealth("c:up", True, 1735689600000, None),
)


def test_the_health_table_in_text() -> None:
    assert render_health_text(ROWS) == (
        "ID              AVAILABLE  LAST CHECK               ERROR\n"
        "a:down          NO         2025-01-01 00:00:00 UTC  upstream | 502\n"
        "b:absent-model  unknown                             not in the registry\n"
        "c:up            yes        2025-01-01 00:00:00 UTC\n"
        "\n"
        "1 available, 1 unavailable, 1 unknown. Fix what each error names (baseUrl, the key "
        "variable, the upstream) in models/ and apply again.\n"
    )


def test_the_health_table_in_markdown_and_json() -> None:
    assert render_health_markdown(ROWS[1:]) == (
        "| id | available | last check | error |\n"
        "| --- | --- | --- | --- |\n"
        "| `b:absent-model` | unknown | — | not in the registry |\n"
        "| `c:up` | yes | 2025-01-01 00:00:00 UTC |  |\n"
        "\n"
        "**1 available, 0 unavailable, 1 unknown. Some could not be probed: see their "
        "errors.**\n"
    )
    assert "| upstream \\| 502 |" in render_health_markdown(ROWS)
    assert json.loads(render_health_json(ROWS, "http://r")) == {
        "format_version": "1",
        "registry": "http://r",
        "summary": {"available": 1, "unavailable": 1, "unknown": 1},
        "models": [
            {
                "id": "a:down",
                "is_available": False,
                "last_health_check": 1735689600000,
                "error": "upstream | 502",
            },
            {
                "id": "b:absent-model",
                "is_available": None,
                "last_health_check": None,
                "error": "not in the registry",
            },
            {"id": "c:up", "is_available": True, "last_health_check": 1735689600000, "error": None},
        ],
    }
