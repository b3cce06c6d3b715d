"""Field changes against DeepDiff: identical changes over generated pairs and over a
table of list drifts, and plans with such drift rendered exactly as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import GOLDEN

from registry_sync import __version__
from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.compare import (
    _deepdiff_changes,
    _path_sort_key,
    comparable,
    field_changes,
)
from registry_sync.plan.document import render_json
from registry_sync.plan.model import ChangeKind, FieldChange, Plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text

ADDED, REMOVED, CHANGED = ChangeKind.ADDED, ChangeKind.REMOVED, ChangeKind.CHANGED


def deepdiff_of_whole(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    """What field_changes reported when DeepDiff diffed the whole entry: the oracle."""
    expected = _deepdiff_changes(before, after, [])
    expected.sort(key=lambda item: _path_sort_key(item[0]))
    return tuple(change for _, change in expected)


KEYS = st.sampled_from(["a", "b", "contextWindow", "X-Api-Key", "in put", "0"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, -2.5, 0.1, float("nan")]),
    st.sampled_from(["", "x", "y", "text", "image"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)
DEFINITIONS = st.dictionaries(KEYS, VALUES, max_size=5)
# Definitions whose fields are lists, as modalities, rateLimits and rerouteRules are.
LISTY = st.dictionaries(KEYS, st.lists(VALUES, max_size=5), min_size=1, max_size=3)


def _mutated(value: Any, data: st.DataObject) -> Any:
    # Pairs that share most of their structure, as a live entry and its file do.
    if isinstance(value, dict):
        out = {key: _mutated(item, data) for key, item in value.items()}
        if data.draw(st.booleans()):
            out.update(data.draw(st.dictionaries(KEYS, VALUES, max_size=1)))
        return out
    if isinstance(value, list):
        return [_mutated(item, data) for item in value]
    return data.draw(st.one_of(st.just(value), SCALARS)) if data.draw(st.booleans()) else value


def _reshaped(value: Any, data: st.DataObject) -> Any:
    # As _mutated, and lists gain, lose and move items (issue 19: lists that change
    # length); an untouched part is sometimes the very same object, as in a plan.
    if data.draw(st.integers(0, 4)) == 0:
        return value
    if isinstance(value, dict):
        return {key: _reshaped(item, data) for key, item in value.items()}
    if isinstance(value, list):
        items = [_reshaped(item, data) for item in value]
        for _ in range(data.draw(st.integers(0, 2))):
            edit = data.draw(st.sampled_from(["insert", "delete", "move"]))
            if edit == "insert":
                pool = st.one_of(VALUES, st.sampled_from(value)) if value else VALUES
                items.insert(data.draw(st.integers(0, len(items))), data.draw(pool))
            elif items:
                item = items.pop(data.draw(st.integers(0, len(items) - 1)))
                if edit == "move":
                    items.insert(data.draw(st.integers(0, len(items))), item)
        return items
    return data.draw(SCALARS) if data.draw(st.booleans()) else value


@settings(max_examples=300, deadline=None)
@given(before=DEFINITIONS, data=st.data())
def test_the_plain_diff_reports_what_deepdiff_reports(before: dict[str, Any], data: Any) -> None:
    after = data.draw(st.one_of(st.just(_mutated(before, data)), DEFINITIONS))
    assert field_changes(before, after) == deepdiff_of_whole(before, after)


@settings(max_examples=300, deadline=None)
@given(before=st.one_of(LISTY, DEFINITIONS), data=st.data())
def test_lists_that_change_length_report_what_deepdiff_reports(
    before: dict[str, Any], data: Any
) -> None:
    after = _reshaped(before, data)
    assert field_changes(before, after) == deepdiff_of_whole(before, after)


def test_numbers_compare_by_value_and_nested_changes_are_found() -> None:
    before = {"a": {"b": [{"c": 1}, {"c": "x"}]}, "gone": True, "n": 1}
    after = {"a": {"b": [{"c": 1.0}, {"c": "y"}]}, "new": None, "n": 1.0}
    assert [(c.path, c.kind, c.before, c.after) for c in field_changes(before, after)] == [
        ("a.b[1].c", ChangeKind.CHANGED, "x", "y"),
        ("gone", ChangeKind.REMOVED, True, None),
        ("new", ChangeKind.ADDED, None, None),
    ]


# --- list drift, table-driven (issue 19) -----------------------------------------------


def model(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "bench:chat",
        "provider": "openai-compatible",
        "modelId": "chat-v1",
        "capabilities": {"modalities": {"input": ["text", "image"], "output": ["text"]}},
        "contextWindow": 128000,
        "rateLimits": [
            {"scope": "org", "rpm": 600, "queue": {"maxDepth": 50, "maxWaitMs": 2000}},
            {"scope": "user", "rpm": 60},
        ],
        "rerouteRules": [
            {"trigger": {"type": "context-exceeded"}, "targetModelId": "bench:large"},
        ],
    }
    body.update(overrides)
    return body


def inputs(*modalities: str) -> dict[str, Any]:
    return {"modalities": {"input": list(modalities), "output": ["text"]}}


ORG = {"scope": "org", "rpm": 600, "queue": {"maxDepth": 50, "maxWaitMs": 2000}}
USER = {"scope": "user", "rpm": 60}
API_KEY = {"scope": "apiKey", "rpm": 30}
LARGE = {"trigger": {"type": "context-exceeded"}, "targetModelId": "bench:large"}
FALLBACK = {"trigger": {"type": "error-fallback"}, "targetModelId": "bench:backup"}
INPUT = "capabilities.modalities.input"

# (live, file, changes from live to file): each also checked against DeepDiff's.
LIST_CASES = [
    pytest.param(
        model(capabilities=inputs("text")),
        model(),
        [(f"{INPUT}[1]", ADDED, None, "image")],
        id="grow-flat-at-the-end",
    ),
    pytest.param(
        model(capabilities=inputs("image")),
        model(),
        [(f"{INPUT}[0]", ADDED, None, "text")],
        id="grow-flat-at-the-front",
    ),
    pytest.param(
        model(capabilities=inputs("text")),
        model(capabilities=inputs("text", "image", "audio")),
        [(f"{INPUT}[1]", ADDED, None, "image"), (f"{INPUT}[2]", ADDED, None, "audio")],
        id="grow-flat-by-two",
    ),
    pytest.param(
        model(),
        model(capabilities=inputs("image")),
        [(f"{INPUT}[0]", REMOVED, "text", None)],
        id="shrink-flat",
    ),
    pytest.param(
        model(capabilities=inputs("text", "image", "audio")),
        model(capabilities=inputs("audio")),
        [(f"{INPUT}[0]", REMOVED, "text", None), (f"{INPUT}[1]", REMOVED, "image", None)],
        id="shrink-flat-by-two",
    ),
    pytest.param(
        model(capabilities=inputs("text", "image")),
        model(capabilities=inputs("image", "text", "audio")),
        [(f"{INPUT}[0]", ADDED, None, "image"), (f"{INPUT}[1]", CHANGED, "image", "audio")],
        id="reorder-and-grow-flat",
    ),
    pytest.param(
        model(rateLimits=[ORG]),
        model(),
        [("rateLimits[1]", ADDED, None, USER)],
        id="grow-rate-limits",
    ),
    pytest.param(
        model(rateLimits=[ORG, USER, API_KEY]),
        model(),
        [("rateLimits[2]", REMOVED, API_KEY, None)],
        id="shrink-rate-limits",
    ),
    pytest.param(
        model(),
        model(rateLimits=[USER]),
        [
            ("rateLimits[0].queue", REMOVED, ORG["queue"], None),
            ("rateLimits[0].rpm", CHANGED, 600, 60),
            ("rateLimits[0].scope", CHANGED, "org", "user"),
            ("rateLimits[1]", REMOVED, USER, None),
        ],
        id="shrink-rate-limits-at-the-front-pairs-by-index",
    ),
    pytest.param(
        model(rateLimits=[USER, ORG]),
        model(rateLimits=[ORG, USER, API_KEY]),
        [
            ("rateLimits[0].queue", ADDED, None, ORG["queue"]),
            ("rateLimits[0].rpm", CHANGED, 60, 600),
            ("rateLimits[0].scope", CHANGED, "user", "org"),
            ("rateLimits[1].queue", REMOVED, ORG["queue"], None),
            ("rateLimits[1].rpm", CHANGED, 600, 60),
            ("rateLimits[1].scope", CHANGED, "org", "user"),
            ("rateLimits[2]", ADDED, None, API_KEY),
        ],
        id="reorder-and-grow-rate-limits",
    ),
    pytest.param(
        model(),
        model(rerouteRules=[LARGE, FALLBACK]),
        [("rerouteRules[1]", ADDED, None, FALLBACK)],
        id="grow-reroute-rules",
    ),
    pytest.param(
        model(rerouteRules=[LARGE, FALLBACK]),
        model(),
        [("rerouteRules[1]", REMOVED, FALLBACK, None)],
        id="shrink-reroute-rules",
    ),
    pytest.param(
        model(rerouteRules=[]),
        model(),
        [("rerouteRules[0]", ADDED, None, LARGE)],
        id="grow-reroute-rules-from-none",
    ),
    pytest.param(
        model(auth={"type": "multi", "strategies": [{"scopes": [["read"], ["write"]]}]}),
        model(auth={"type": "multi", "strategies": [{"scopes": [["read", "list"]]}, {}]}),
        [
            ("auth.strategies[0].scopes[0][1]", ADDED, None, "list"),
            ("auth.strategies[0].scopes[1]", REMOVED, ["write"], None),
            ("auth.strategies[1]", ADDED, None, {}),
        ],
        id="nested-lists-in-lists",
    ),
    pytest.param(
        model(tags=["a", ["b"]]),
        model(tags=["a", ["b", "c"], "d"]),
        [("tags[1][1]", ADDED, None, "c"), ("tags[2]", ADDED, None, "d")],
        id="list-of-plain-values-and-lists",
    ),
    pytest.param(
        model(capabilities=inputs("text"), contextWindow=64000, rateLimits=[ORG, USER, API_KEY]),
        model(rerouteRules=[LARGE, FALLBACK], rateLimits=[{**ORG, "rpm": 300}, USER]),
        [
            (f"{INPUT}[1]", ADDED, None, "image"),
            ("contextWindow", CHANGED, 64000, 128000),
            ("rateLimits[0].rpm", CHANGED, 600, 300),
            ("rateLimits[2]", REMOVED, API_KEY, None),
            ("rerouteRules[1]", ADDED, None, FALLBACK),
        ],
        id="scalar-and-list-drift-in-one-entry",
    ),
    pytest.param(
        model(capabilities=inputs("text"), rateLimits="none"),
        model(),
        [(f"{INPUT}[1]", ADDED, None, "image"), ("rateLimits", CHANGED, "none", [ORG, USER])],
        id="list-drift-beside-a-type-change",
    ),
]


@pytest.mark.parametrize(("have", "want", "expected"), LIST_CASES)
def test_list_drift(
    have: dict[str, Any], want: dict[str, Any], expected: list[tuple[Any, ...]]
) -> None:
    changes = field_changes(have, want)
    assert [(c.path, c.kind, c.before, c.after) for c in changes] == expected
    assert changes == deepdiff_of_whole(have, want)


def live_entry(body: dict[str, Any]) -> LiveEntry:
    definition = {**copy.deepcopy(body), "created": 1_700_000_000}
    return LiveEntry(body["id"], False, "database", definition, updated_at=1_704_153_600_000)


# Modalities are compared as sets: a file that lists the server's in another order is
# in sync, while one more or fewer is a change, at the index where the file has it.
SET_CASES = [
    pytest.param(["image", "text"], ["text", "image"], [], id="same-set-other-order"),
    pytest.param(["text", "image", "audio"], ["audio", "text", "image"], [], id="same-set-rotated"),
    pytest.param(
        ["image", "text"], ["text"], [(f"{INPUT}[0]", ADDED, None, "image")], id="one-more"
    ),
    pytest.param(
        ["audio", "image"],
        ["text", "image", "audio"],
        # DeepDiff pairs by index when aligning finds more than one change.
        [(f"{INPUT}[0]", CHANGED, "text", "audio"), (f"{INPUT}[2]", REMOVED, "audio", None)],
        id="one-fewer-and-reordered",
    ),
    pytest.param(
        ["text", "text"],
        ["text", "image"],
        [(f"{INPUT}[1]", CHANGED, "image", "text")],
        id="same-length-other-set",
    ),
]


@pytest.mark.parametrize(("file_inputs", "live_inputs", "expected"), SET_CASES)
def test_modalities_compare_as_sets(
    file_inputs: list[str], live_inputs: list[str], expected: list[tuple[Any, ...]]
) -> None:
    want = model(capabilities=inputs(*file_inputs))
    wanted, have = comparable(
        want["id"], want, live_entry(model(capabilities=inputs(*live_inputs))), ()
    )
    changes = field_changes(have, wanted) if have != wanted else ()
    assert [(c.path, c.kind, c.before, c.after) for c in changes] == expected
    assert changes == (deepdiff_of_whole(have, wanted) if have != wanted else ())


def list_drift_plan() -> Plan:
    """Every table case as one entry to update, planned from files and live entries."""
    desired, live = [], []
    for index, case in enumerate(LIST_CASES):
        have, want, _ = case.values
        assert isinstance(have, dict) and isinstance(want, dict)
        model_id = f"bench:{case.id}"
        desired.append(
            DesiredDefinition(model_id, {**want, "id": model_id}, f"models/{index}.yaml", 1)
        )
        live.append(live_entry({**have, "id": model_id}))
    return build_plan(desired, live, PlanOptions(registry="file:registry.json"))


def test_list_drift_renders_as_when_deepdiff_diffed_whole_entries() -> None:
    # The golden files were rendered before lists were diffed apart (issue 19).
    plan = list_drift_plan()
    assert all(change.changes for change in plan.changes)
    json_text = render_json(plan).replace(f'"version": "{__version__}"', '"version": "0.1.0"', 1)
    assert render_text(plan) == (GOLDEN / "plan-list-drift.txt").read_text(encoding="utf-8")
    assert json_text == (GOLDEN / "plan-list-drift.json").read_text(encoding="utf-8")
    assert render_markdown(plan) == (GOLDEN / "plan-list-drift.md").read_text(encoding="utf-8")


def test_deepdiff_is_the_oracle() -> None:
    # The oracle above is DeepDiff itself, not a copy of the code under test.
    before = {"tags": ["a"], "rateLimits": [{"rpm": 1}]}
    after = {"tags": ["a", "b"], "rateLimits": [{"rpm": 2}]}
    assert bool(DeepDiff(before, after))
    assert [(c.path, c.kind) for c in deepdiff_of_whole(before, after)] == [
        ("rateLimits[0].rpm", ChangeKind.CHANGED),
        ("tags[1]", ChangeKind.ADDED),
    ]
