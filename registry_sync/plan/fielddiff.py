"""A plain recursive diff of two JSON values, for the planner's field changes.

It walks mappings and lists of equal length the way DeepDiff does and reports the
same changes, at a fraction of the cost; where DeepDiff would align items (lists of
different lengths, lists of plain values, which it matches with difflib) or compare
across types, it gives up with ``NeedsDeepDiff`` and the planner asks DeepDiff.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from registry_sync.plan.model import ChangeKind, FieldChange
from registry_sync.schema.values import format_path

Keys = list[str | int]

# DeepDiff's threshold_to_diff_deeper: below this share of common keys it reports a
# changed mapping as a whole.
_DIFF_DEEPER = 0.33


class NeedsDeepDiff(Exception):
    """The values differ in a way only DeepDiff reports faithfully."""


def plain_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[Keys, FieldChange]]:
    """(keys, change) for every difference from ``before`` to ``after``, unsorted.

    Numbers compare by value (``1`` equals ``1.0``). Raises ``NeedsDeepDiff``.
    """
    found: list[tuple[Keys, FieldChange]] = []
    _walk(before, after, [], found)
    return found


def _walk(before: Any, after: Any, keys: Keys, found: list[tuple[Keys, FieldChange]]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        union = len(before.keys() | after.keys())
        if union > 1 and len(before.keys() & after.keys()) / union < _DIFF_DEEPER:
            # Mostly different keys: DeepDiff reports the mapping as one change.
            found.append(_change(keys, ChangeKind.CHANGED, before, after))
            return
        for key, value in before.items():
            if key not in after:
                found.append(_change([*keys, key], ChangeKind.REMOVED, value, None))
        for key, value in after.items():
            if key not in before:
                found.append(_change([*keys, key], ChangeKind.ADDED, None, value))
            else:
                _walk(before[key], value, [*keys, key], found)
    elif isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            raise NeedsDeepDiff
        if _flat(before) and _flat(after):
            if all(map(_identical, before, after)):
                return
            raise NeedsDeepDiff
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            _walk(old, new, [*keys, index], found)
    elif _number(before) and _number(after):
        if math.isnan(before) or math.isnan(after):
            raise NeedsDeepDiff
        if before != after:
            found.append(_change(keys, ChangeKind.CHANGED, before, after))
    elif type(before) is type(after) and isinstance(before, (str, bool, type(None))):
        if before != after:
            found.append(_change(keys, ChangeKind.CHANGED, before, after))
    else:
        raise NeedsDeepDiff


def _change(keys: Keys, kind: ChangeKind, before: Any, after: Any) -> tuple[Keys, FieldChange]:
    return keys, FieldChange(path=format_path(keys), kind=kind, before=before, after=after)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _identical(old: Any, new: Any) -> bool:
    return type(old) is type(new) and old == new


def _flat(items: list[Any]) -> bool:
    return all(isinstance(item, (str, int, float, bool, type(None))) for item in items)
