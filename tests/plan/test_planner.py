"""Planner rules, table-driven: each case is desired + live -> expected action."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.compare import comparable, field_changes, in_sync_as_read
from registry_sync.plan.model import Action, ChangeKind, FieldChange
from registry_sync.plan.planner import PlanOptions, build_plan, replace_problems
from registry_sync.schema.values import format_path
from registry_sync.settings.ignore import IgnoreRule

SECRET = "sk-live-0123456789abcdefSECRET"


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "meetkai:chat",
        "provider": "openai-compatible",
        "modelId": "chat-v1",
        "apiFormat": "responses",
        "auth": {"type": "api-key", "envVar": "CHAT_KEY"},
        "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
        "contextWindow": 8192,
    }
    body.update(overrides)
    return body


def desired(body: dict[str, Any], file: str = "models/chat.yaml") -> DesiredDefinition:
    return DesiredDefinition(id=body["id"], body=body, file=file, line=1)


def live(
    body: dict[str, Any], *, immutable: bool = False, created: int | None = 1_700_000_000
) -> LiveEntry:
    definition = copy.deepcopy(body)
    if created is not None:
        definition.setdefault("created", created)
    return LiveEntry(
        id=body["id"],
        immutable=immutable,
        source="yaml" if immutable else "database",
        definition=definition,
        updated_at=1_704_153_600_000,
    )


def plan_one(want: dict[str, Any] | None, have: LiveEntry | None, **options: Any) -> Any:
    plan = build_plan(
        [desired(want)] if want else [], [have] if have else [], PlanOptions(**options)
    )
    assert len(plan.changes) == 1
    return plan.changes[0]


CASES = [
    pytest.param(chat(), None, Action.CREATE, [], id="declared-not-live-creates"),
    pytest.param(chat(), live(chat()), Action.NO_OP, [], id="equal-is-no-op"),
    pytest.param(
        chat(),
        live(chat(), created=1_600_000_000),
        Action.NO_OP,
        [],
        id="created-omitted-in-file-is-not-drift",
    ),
    pytest.param(
        chat(created=1_600_000_001),
        live(chat(), created=1_600_000_000),
        Action.UPDATE,
        [FieldChange("created", ChangeKind.CHANGED, 1_600_000_000, 1_600_000_001)],
        id="created-declared-is-compared",
    ),
    pytest.param(
        chat(defaultParams={"temperature": 1}),
        live(chat(defaultParams={"temperature": 1.0})),
        Action.NO_OP,
        [],
        id="numbers-compare-by-value",
    ),
    pytest.param(
        chat(contextWindow=16384),
        live(chat()),
        Action.UPDATE,
        [FieldChange("contextWindow", ChangeKind.CHANGED, 8192, 16384)],
        id="changed-scalar-updates",
    ),
    pytest.param(
        chat(
            capabilities={
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "reasoning": False,
            }
        ),
        live(chat()),
        Action.UPDATE,
        [FieldChange("capabilities.modalities.input[1]", ChangeKind.ADDED, None, "image")],
        id="list-item-added-has-readable-path",
    ),
    pytest.param(
        chat(),
        live(chat(auth={"type": "api-key", "envVar": "CHAT_KEY", "headerName": "X-Key"})),
        Action.UPDATE,
        [FieldChange("auth.headerName", ChangeKind.REMOVED, "X-Key", None)],
        id="nested-removal-is-an-update-of-the-top-level-field",
    ),
    pytest.param(
        chat(),
        live(chat(rpm=60)),
        Action.UPDATE,
        [FieldChange("rpm", ChangeKind.REMOVED, 60, None)],
        id="top-level-removal-is-an-update-that-clears-it",
    ),
    pytest.param(
        chat(
            capabilities={
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "supportedBase64Formats": ["png", "jpeg"],
                "reasoning": False,
            }
        ),
        live(
            chat(
                capabilities={
                    "modalities": {"input": ["image", "text"], "output": ["text"]},
                    "supportedBase64Formats": ["jpeg", "png"],
                    "reasoning": False,
                }
            )
        ),
        Action.NO_OP,
        [],
        id="modalities-and-base64-formats-compare-as-sets",
    ),
    pytest.param(
        chat(
            capabilities={
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "reasoning": False,
            }
        ),
        live(
            chat(
                capabilities={
                    "modalities": {"input": ["image", "audio"], "output": ["text"]},
                    "reasoning": False,
                }
            )
        ),
        Action.UPDATE,
        [
            FieldChange("capabilities.modalities.input[0]", ChangeKind.CHANGED, "image", "text"),
            FieldChange("capabilities.modalities.input[1]", ChangeKind.CHANGED, "audio", "image"),
        ],
        id="different-sets-still-differ",
    ),
    pytest.param(
        chat(
            auth={
                "type": "composite",
                "strategies": [
                    {"type": "api-key", "envVar": "K", "headerName": "X-Api-Key"},
                    {
                        "type": "custom-headers",
                        "headers": {"X-Org": "a"},
                        "envVars": {"X-Token": "TOKEN"},
                    },
                ],
            }
        ),
        live(
            chat(
                auth={
                    "type": "composite",
                    "strategies": [
                        {"type": "api-key", "envVar": "K", "headerName": "x-api-key"},
                        {
                            "type": "custom-headers",
                            "headers": {"x-org": "a"},
                            "envVars": {"X-TOKEN": "TOKEN"},
                        },
                    ],
                }
            )
        ),
        Action.NO_OP,
        [],
        id="header-names-compare-case-insensitively",
    ),
    pytest.param(
        chat(auth={"type": "custom-headers", "headers": {"X-Org": "a"}}),
        live(chat(auth={"type": "custom-headers", "headers": {"x-org": "b"}})),
        Action.UPDATE,
        [FieldChange("auth.headers.X-Org", ChangeKind.CHANGED, "b", "a")],
        id="header-value-change-shows-the-file-spelling",
    ),
    pytest.param(
        chat(), live(chat(), immutable=True), Action.READ_ONLY, [], id="immutable-equal-in-sync"
    ),
    pytest.param(
        chat(contextWindow=4096),
        live(chat(), immutable=True),
        Action.READ_ONLY,
        [FieldChange("contextWindow", ChangeKind.CHANGED, 8192, 4096)],
        id="immutable-different-conflicts",
    ),
    pytest.param(None, live(chat()), Action.UNMANAGED, [], id="undeclared-mutable-is-unmanaged"),
]


@pytest.mark.parametrize(("want", "have", "action", "changes"), CASES)
def test_action_per_rule(
    want: dict[str, Any] | None, have: LiveEntry | None, action: Action, changes: list[FieldChange]
) -> None:
    change = plan_one(want, have)
    assert change.action is action
    assert list(change.changes) == changes


def test_create_leaves_created_to_apply_unless_the_file_declares_it() -> None:
    assert "created" not in plan_one(chat(), None).body
    assert plan_one(chat(created=123), None).body["created"] == 123


def test_removed_top_level_fields_are_cleared_with_null_in_one_patch() -> None:
    have = live(chat(rpm=60, hidden=True, rateLimits=[{"scope": "global", "rpm": 5}]))
    change = plan_one(chat(contextWindow=1), have)
    assert change.action is Action.UPDATE
    assert change.patch == {"contextWindow": 1, "rpm": None, "rateLimits": None, "hidden": None}
    assert list(change.patch) == ["contextWindow", "rpm", "rateLimits", "hidden"]
    assert change.body is None


def test_server_default_for_an_omitted_field_is_in_sync_and_never_cleared() -> None:
    defaults = {"hidden": False, "capabilities.supportsTopP": True}
    capabilities = {**chat()["capabilities"], "supportsTopP": True}
    have = live(chat(hidden=False, capabilities=capabilities))
    assert plan_one(chat(), have, server_defaults=defaults).action is Action.NO_OP
    other = plan_one(chat(), live(chat(hidden=True)), server_defaults=defaults)
    assert other.patch == {"hidden": None}
    declared = plan_one(chat(hidden=True), live(chat(hidden=False)), server_defaults=defaults)
    assert declared.patch == {"hidden": True}


def test_update_patches_only_changed_top_level_fields_with_desired_values() -> None:
    want = chat(contextWindow=16384, defaultParams={"temperature": 0.2, "topP": 0.9})
    have = live(chat(defaultParams={"temperature": 0.7, "topP": 0.9}))
    change = plan_one(want, have)
    assert change.patch == {
        "contextWindow": 16384,
        "defaultParams": {"temperature": 0.2, "topP": 0.9},
    }
    assert change.body is None
    assert change.live_fingerprint == have.fingerprint()


def test_replace_only_when_asked_and_keeps_the_live_created_stamp() -> None:
    have = live(chat(rpm=60), created=1_650_000_000)
    change = plan_one(chat(), have, replace=frozenset({"meetkai:chat"}))
    assert change.action is Action.REPLACE
    assert "--replace" in change.reason
    assert change.body == {**chat(), "created": 1_650_000_000}
    assert change.live_fingerprint == have.fingerprint()
    in_sync = plan_one(chat(), live(chat()), replace=frozenset({"meetkai:chat"}))
    assert in_sync.action is Action.REPLACE


def test_replace_problems_name_ids_that_cannot_be_replaced() -> None:
    declared = [desired(chat()), desired(chat(id="meetkai:new"))]
    haves = [live(chat()), live(chat(id="sys:x"), immutable=True)]
    assert replace_problems(["meetkai:chat"], declared, haves) == []
    found = replace_problems(["sys:x", "meetkai:new", "nope:x"], declared, haves)
    assert len(found) == 3
    assert "meetkai:new: not in the registry" in found[0]
    assert "nope:x: no file in models/ declares it" in found[1]
    assert "sys:x: immutable" in found[2] and "never" in found[2]


def test_read_only_conflict_is_flagged_and_in_sync_is_not() -> None:
    conflict = plan_one(chat(contextWindow=1), live(chat(), immutable=True))
    assert conflict.conflict and conflict.body is None and conflict.patch is None
    in_sync = plan_one(chat(), live(chat(), immutable=True))
    assert not in_sync.conflict


def test_prune_turns_unmanaged_into_delete() -> None:
    have = live(chat())
    change = plan_one(None, have, prune=True)
    assert change.action is Action.DELETE
    assert change.live_fingerprint == have.fingerprint()


def test_immutable_undeclared_entries_are_counted_not_listed() -> None:
    other = live(chat(id="meetkai:system"), immutable=True)
    plan = build_plan([], [other], PlanOptions())
    assert plan.changes == ()
    assert plan.immutable_undeclared == 1
    assert plan.summary()["immutable-undeclared"] == 1
    assert not plan.has_changes


def test_live_secret_never_enters_the_plan() -> None:
    have = live(chat(auth={"type": "api-key", "value": SECRET}))
    change = plan_one(chat(), have)
    assert change.action is Action.UPDATE
    assert FieldChange("auth.value", ChangeKind.REMOVED, "(sensitive)", None) in change.changes
    assert SECRET not in repr(change)


def test_secret_header_in_live_is_redacted_in_changes() -> None:
    headers = {"Authorization": f"Bearer {SECRET}", "X-Org": "team-a"}
    have = live(chat(auth={"type": "custom-headers", "headers": headers}))
    change = plan_one(chat(), have)
    assert SECRET not in repr(change)
    removed = FieldChange(
        "auth.headers",
        ChangeKind.REMOVED,
        {"Authorization": "(sensitive)", "X-Org": "team-a"},
        None,
    )
    assert removed in change.changes


@pytest.mark.parametrize(
    ("rules", "action"),
    [
        ((IgnoreRule("meetkai:*", ("contextWindow",)),), Action.NO_OP),
        ((IgnoreRule("*", ("capabilities.reasoning",)),), Action.UPDATE),
        ((IgnoreRule("other:*", ("contextWindow",)),), Action.UPDATE),
    ],
)
def test_ignore_rules_apply_to_matching_ids_only(
    rules: tuple[IgnoreRule, ...], action: Action
) -> None:
    change = plan_one(chat(contextWindow=1), live(chat()), ignore=rules)
    assert change.action is action


def test_ignored_nested_field_is_not_diffed() -> None:
    want = chat(
        capabilities={"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": True}
    )
    rules = (IgnoreRule("*", ("capabilities.reasoning",)),)
    assert plan_one(want, live(chat()), ignore=rules).action is Action.NO_OP


def test_plan_is_sorted_by_id_and_summarised() -> None:
    wants = [chat(id="b:new"), chat(id="a:same"), chat(id="c:changed", contextWindow=1)]
    haves = [live(chat(id="a:same")), live(chat(id="c:changed")), live(chat(id="d:extra"))]
    plan = build_plan([desired(w) for w in wants], haves, PlanOptions())
    assert [c.id for c in plan.changes] == ["a:same", "b:new", "c:changed", "d:extra"]
    summary = plan.summary()
    assert (summary["create"], summary["update"], summary["no-op"], summary["unmanaged"]) == (
        1,
        1,
        1,
        1,
    )
    assert plan.has_changes


def test_field_changes_sort_indexes_numerically() -> None:
    before = {"xs": list(range(12))}
    after = {"xs": [*range(2), 99, *range(3, 10), 98, 11]}
    paths = [c.path for c in field_changes(before, after)]
    assert paths == ["xs[2]", "xs[10]"]


def test_format_path() -> None:
    assert format_path(["rateLimits", 0, "queue", "maxDepth"]) == "rateLimits[0].queue.maxDepth"
    assert format_path(["id"]) == "id"
    assert format_path(["auth", "headers", "X-Api.Key"]) == 'auth.headers["X-Api.Key"]'
    assert format_path(["headers", 'a "b"']) == 'headers["a \\"b\\""]'


def test_fingerprint_tracks_the_live_definition() -> None:
    assert live(chat()).fingerprint() == live(chat()).fingerprint()
    assert live(chat()).fingerprint() != live(chat(contextWindow=1)).fingerprint()
    assert live(chat(auth={"type": "api-key", "value": SECRET})).fingerprint().startswith("sha256:")


def test_live_fields_this_version_does_not_know_are_never_drift() -> None:
    # A newer server may add a field to every entry; no file can declare it, so
    # comparing it would plan a replace of the whole registry.
    have = live(chat(priority=0, routing={"tier": "gold"}))
    plan = build_plan([desired(chat())], [have], PlanOptions())
    assert plan.changes[0].action is Action.NO_OP
    assert plan.unknown_live_fields == ("priority", "routing")


def test_unknown_live_fields_stay_out_of_a_patch() -> None:
    change = plan_one(chat(), live(chat(rpm=1, priority=0)))
    assert change.action is Action.UPDATE
    assert change.patch == {"rpm": None}


def test_ignore_rule_for_a_field_absent_on_both_sides_changes_nothing() -> None:
    rules = (IgnoreRule("*", ("healthCheck.path", "rateLimits")),)
    assert plan_one(chat(), live(chat()), ignore=rules).action is Action.NO_OP
    assert plan_one(chat(contextWindow=1), live(chat()), ignore=rules).action is Action.UPDATE


def test_reasons_name_the_models_folder_in_use() -> None:
    assert "not declared in team/" in plan_one(None, live(chat()), models_dir="team").reason
    conflict = plan_one(chat(contextWindow=1), live(chat(), immutable=True), models_dir="team")
    assert "make team/ match it" in conflict.reason


def test_an_entry_in_sync_is_decided_without_redacting_it() -> None:
    # The bulk of a registry is in sync: one equality test, no secret scan.
    have = live(chat())
    assert plan_one(chat(), have).action is Action.NO_OP
    assert "redacted" not in vars(have)
    drifted = live(chat(contextWindow=4096))
    assert plan_one(chat(), drifted).action is Action.UPDATE
    assert "redacted" in vars(drifted)


# (desired, live definition): pairs the shortcut must judge exactly as comparable does.
_AS_READ_CASES = [
    (chat(), chat()),
    (chat(), {**chat(), "created": 1}),
    (chat(created=1), {**chat(), "created": 1}),
    (chat(created=1), {**chat(), "created": 2}),
    (chat(), {**chat(), "newServerField": True}),
    (chat(contextWindow=8192.0), chat()),
    (chat(hidden=True), chat(hidden=1)),
    (chat(), chat(contextWindow=4096)),
    (
        chat(capabilities={"modalities": {"input": ["image", "text"], "output": ["text"]}}),
        chat(capabilities={"modalities": {"input": ["text", "image"], "output": ["text"]}}),
    ),
    (
        chat(auth={"type": "api-key", "envVar": "K", "headerName": "X-Key"}),
        chat(auth={"type": "api-key", "envVar": "K", "headerName": "x-key"}),
    ),
    (chat(), chat(auth={"type": "api-key", "value": SECRET})),
]


@pytest.mark.parametrize(("want", "have"), _AS_READ_CASES)
@pytest.mark.parametrize("ignore", [(), (IgnoreRule("*", ("contextWindow", "auth")),)])
def test_the_in_sync_shortcut_never_disagrees_with_the_full_comparison(
    want: dict[str, Any], have: dict[str, Any], ignore: tuple[IgnoreRule, ...]
) -> None:
    entry = LiveEntry(want["id"], False, "database", have)
    wanted, seen = comparable(want["id"], want, entry, ignore, {"contextWindow": 4096})
    # The shortcut may decline (the full comparison then decides), never wrongly accept.
    assert not in_sync_as_read(want, have) or wanted == seen


def test_the_in_sync_shortcut_takes_equal_entries_with_or_without_a_created_stamp() -> None:
    assert in_sync_as_read(chat(), chat())
    assert in_sync_as_read(chat(), {**chat(), "created": 1})
    assert in_sync_as_read(chat(created=1), {**chat(), "created": 1})
    assert not in_sync_as_read(chat(created=1), {**chat(), "created": 2})
    assert not in_sync_as_read(chat(), {**chat(), "created": 1, "hidden": False})
