"""The check before any write: whether a plan is stale. Table-driven.

The safety rails are the policy's: tests/plan/test_policy.py."""

from __future__ import annotations

import dataclasses

import pytest

from registry_sync.apply.preflight import stale_changes, unshown_changes
from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.settings.ignore import IgnoreRule


def live(model_id: str, *, immutable: bool = False, updated_at: float = 1) -> LiveEntry:
    return LiveEntry(model_id, immutable, "database", {"id": model_id}, updated_at=updated_at)


def change(model_id: str, action: Action) -> Change:
    fingerprint = None if action is Action.CREATE else live(model_id).fingerprint()
    return Change(model_id, action, "why", live_fingerprint=fingerprint)


def plan(*changes: Change) -> Plan:
    return Plan(changes=changes, models_dir="models", registry="https://r")


MIXED = plan(
    change("prod:chat", Action.REPLACE),
    change("prod:embed", Action.UPDATE),
    change("team:a", Action.DELETE),
    change("team:b", Action.DELETE),
    change("team:c", Action.NO_OP),
    change("team:new", Action.CREATE),
)


@pytest.mark.parametrize(
    ("entries", "stale"),
    [
        ([live("prod:chat"), live("prod:embed"), live("team:a"), live("team:b")], []),
        (
            [live("prod:chat", updated_at=2), live("prod:embed"), live("team:a"), live("team:b")],
            ["prod:chat: changed since the plan was made"],
        ),
        (
            [live("prod:chat"), live("prod:embed", immutable=True), live("team:a"), live("team:b")],
            ["prod:embed: changed since the plan was made"],
        ),
        (
            [live("prod:chat"), live("prod:embed"), live("team:b"), live("team:new")],
            [
                "team:a: to be deleted, but it no longer exists",
                "team:new: to be created, but it now exists",
            ],
        ),
        (
            [live("prod:embed"), live("team:a"), live("team:b"), live("team:c", updated_at=9)],
            ["prod:chat: to be replaced, but it no longer exists"],  # no-op entries do not count
        ),
    ],
)
def test_stale_changes(entries: list[LiveEntry], stale: list[str]) -> None:
    assert stale_changes(MIXED, entries) == stale


# --- what a write would send, against what the plan shows -----------------------------

LIVE_CHAT = LiveEntry(
    "m:chat",
    False,
    "database",
    {
        "id": "m:chat",
        "created": 5,
        "contextWindow": 8192,
        "capabilities": {"reasoning": False, "supportsTemperature": True},
        "auth": {"type": "api-key", "value": "sk-live-abcdefghijklmnop"},
    },
)


def planned(desired: dict[str, object], ignore: tuple[IgnoreRule, ...] = ()) -> Plan:
    definition = DesiredDefinition(str(desired["id"]), dict(desired), "models/chat.yaml", 1)
    options = PlanOptions(ignore=ignore, registry="https://r")
    return build_plan([definition], [LIVE_CHAT], options)


AUTH = {"type": "api-key", "envVar": "CHAT_KEY"}
CAPABILITIES = {"reasoning": True, "supportsTemperature": True}


@pytest.mark.parametrize(
    ("desired", "ignore"),
    [
        ({"id": "m:chat", "contextWindow": 16384, "capabilities": CAPABILITIES, "auth": AUTH}, ()),
        ({"id": "m:chat", "capabilities": CAPABILITIES, "auth": AUTH}, ()),  # a replace
        (
            {"id": "m:chat", "contextWindow": 1, "capabilities": {"reasoning": True}, "auth": AUTH},
            (IgnoreRule("m:*", ("capabilities.supportsTemperature",)),),
        ),
    ],
    ids=["update", "replace", "ignored-field"],
)
def test_a_plan_as_made_shows_what_it_sends(
    desired: dict[str, object], ignore: tuple[IgnoreRule, ...]
) -> None:
    made = planned(desired, ignore)
    assert made.writes
    assert unshown_changes(made, [LIVE_CHAT], ignore) == []


def test_a_patch_that_does_more_than_the_plan_shows_is_refused() -> None:
    made = planned(
        {"id": "m:chat", "contextWindow": 16384, "capabilities": CAPABILITIES, "auth": AUTH}
    )
    edited = dataclasses.replace(
        made.changes[0], patch={**(made.changes[0].patch or {}), "hidden": True}
    )
    assert unshown_changes(Plan((edited,), "models", "https://r"), [LIVE_CHAT]) == [
        "m:chat: what apply would send changes auth.envVar, auth.value, capabilities.reasoning, "
        "contextWindow, hidden, but the plan shows auth.envVar, auth.value, "
        "capabilities.reasoning, contextWindow"
    ]


def test_a_null_in_a_patch_removes_the_field() -> None:
    removal = Change(
        "m:chat",
        Action.UPDATE,
        "why",
        changes=(FieldChange("contextWindow", ChangeKind.REMOVED, before=8192),),
        patch={"contextWindow": None},
    )
    assert unshown_changes(Plan((removal,), "models", "https://r"), [LIVE_CHAT]) == []


def test_a_write_to_an_immutable_entry_is_refused() -> None:
    frozen = dataclasses.replace(LIVE_CHAT, immutable=True)
    removal = Change("m:chat", Action.DELETE, "why")
    assert unshown_changes(Plan((removal,), "models", "https://r"), [frozen]) == [
        "m:chat: immutable on the server, and the plan would delete it; no plan can write it"
    ]
