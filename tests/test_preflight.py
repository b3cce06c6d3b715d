"""The check before any write: whether a plan is stale. Table-driven.

The safety rails are the policy's: tests/test_policy.py."""

from __future__ import annotations

import pytest

from registry_sync.live import LiveEntry
from registry_sync.plan import Action, Change, Plan
from registry_sync.preflight import stale_changes


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
