"""The plain field diff against DeepDiff: identical changes over generated pairs."""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.plan.compare import (
    _deepdiff_changes,
    _NeedsDeepDiff,
    _path_sort_key,
    _walk,
    field_changes,
)
from registry_sync.plan.model import ChangeKind

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


@settings(max_examples=300, deadline=None)
@given(before=DEFINITIONS, data=st.data())
def test_the_plain_diff_reports_what_deepdiff_reports(before: dict[str, Any], data: Any) -> None:
    after = data.draw(st.one_of(st.just(_mutated(before, data)), DEFINITIONS))
    expected = _deepdiff_changes(before, after, [])
    expected.sort(key=lambda item: _path_sort_key(item[0]))
    assert field_changes(before, after) == tuple(change for _, change in expected)


def test_the_plain_diff_hands_lists_that_change_length_to_deepdiff() -> None:
    before = {"tags": ["a"], "rateLimits": [{"rpm": 1}]}
    after = {"tags": ["a", "b"], "rateLimits": [{"rpm": 2}]}
    assert bool(DeepDiff(before, after))
    try:
        _walk(before, after, [], [])
    except _NeedsDeepDiff:
        pass
    else:
        raise AssertionError("lists of different lengths must go to DeepDiff")
    assert [(c.path, c.kind) for c in field_changes(before, after)] == [
        ("rateLimits[0].rpm", ChangeKind.CHANGED),
        ("tags[1]", ChangeKind.ADDED),
    ]


def test_numbers_compare_by_value_and_nested_changes_are_found() -> None:
    before = {"a": {"b": [{"c": 1}, {"c": "x"}]}, "gone": True, "n": 1}
    after = {"a": {"b": [{"c": 1.0}, {"c": "y"}]}, "new": None, "n": 1.0}
    assert [(c.path, c.kind, c.before, c.after) for c in field_changes(before, after)] == [
        ("a.b[1].c", ChangeKind.CHANGED, "x", "y"),
        ("gone", ChangeKind.REMOVED, True, None),
        ("new", ChangeKind.ADDED, None, None),
    ]
