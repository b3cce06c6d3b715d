"""(desired definition, live entry, ignore rules) -> the two as compared, and
(before, after) -> the field changes between them. Pure: no I/O, no printing.

The planner decides drift with these, preflight checks a saved plan with them, and
the applier confirms with them that a write converged: one comparison for all three.

The only module that imports deepdiff, lazily. Equal entries are decided by a plain
equality test on the normalised form; entries that differ by a plain walk that
reports what DeepDiff would, and DeepDiff only on the part of an entry (a list, a
pair of values of different types) where that walk cannot be sure to match it.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Mapping, Sequence
from typing import Any

from registry_sync.live.entries import LiveEntry
from registry_sync.plan.model import ChangeKind, FieldChange
from registry_sync.schema.fields import unknown_fields
from registry_sync.schema.values import deep_copy, format_path, is_number
from registry_sync.settings.ignore import IgnoreRule

__all__ = ["comparable", "field_changes", "in_sync_as_read", "known_part", "top_key"]

Keys = list[str | int]
Found = list[tuple[Keys, FieldChange]]


# --- what is compared ------------------------------------------------------------------


def comparable(
    model_id: str,
    desired: Mapping[str, Any],
    entry: LiveEntry,
    ignore: Sequence[IgnoreRule],
    server_defaults: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(desired, live) as the planner compares them: ignored fields dropped from both,
    live secrets redacted, live values equal to a server default the file omits
    dropped, and live sets (modalities, base64 formats) and header names (any case)
    spelt as the file spells them when they are equal to the server. The entry is in
    sync exactly when the two are equal; the applier uses the same test to confirm
    that a write converged. A ``None`` in ``desired`` (a field to clear) is absent."""
    ignored = _ignored_fields(model_id, ignore)
    wanted = _normalise(desired, ignored)
    have = _normalise(_comparable_live(entry.redacted, desired), ignored)
    if server_defaults:
        for path, value in server_defaults.items():
            keys = path.split(".")
            if _get_path(wanted, keys) is None and _get_path(have, keys) == value:
                _drop_path(have, keys)
    if have != wanted:
        _align(have, wanted)
    return wanted, have


def in_sync_as_read(desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """True when the live definition as read (nulls dropped, see
    :func:`registry_sync.live.entries.without_nulls`) equals the file's, but for a ``created``
    stamp the file leaves out: the entry is then in sync, and :func:`comparable` would
    say so too, so the bulk of a registry costs one equality test.

    The shortcut is sound because a valid file holds no secret, no null and no field
    this version does not know: a live definition equal to it holds none either, so
    redacting and dropping change nothing; ignored fields and server defaults only
    remove what is equal on both sides, and aligning only touches values that differ.
    """
    if "created" in live and "created" not in desired:
        if len(live) != len(desired) + 1:
            return False
        live = dict(live)
        del live["created"]
    return live == desired


def _get_path(target: Mapping[str, Any], keys: Sequence[str]) -> Any:
    node: Any = target
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


# Lists the server treats as sets: their order is never drift.
_SET_PATHS = (("modalities", "input"), ("modalities", "output"), ("supportedBase64Formats",))


def _align(have: dict[str, Any], wanted: Mapping[str, Any]) -> None:
    """Spell live values as the file does where the server sees no difference."""
    capabilities, wanted_capabilities = have.get("capabilities"), wanted.get("capabilities")
    if (
        isinstance(capabilities, dict)
        and isinstance(wanted_capabilities, dict)
        and capabilities != wanted_capabilities
    ):
        aligned = deep_copy(capabilities)
        for keys in _SET_PATHS:
            mine, theirs = _get_path(aligned, keys), _get_path(wanted_capabilities, keys)
            if (
                isinstance(mine, list)
                and isinstance(theirs, list)
                and _as_set(mine) is not None
                and _as_set(mine) == _as_set(theirs)
                and len(mine) == len(theirs)
            ):
                parent = _get_path(aligned, keys[:-1]) if len(keys) > 1 else aligned
                parent[keys[-1]] = list(theirs)
        have["capabilities"] = aligned
    auth = have.get("auth")
    if isinstance(auth, dict) and auth != wanted.get("auth"):
        have["auth"] = _align_auth(auth, wanted.get("auth"))


def _as_set(items: list[Any]) -> frozenset[Any] | None:
    if not all(isinstance(item, str) for item in items):
        return None
    return frozenset(items)


def _align_auth(have: dict[str, Any], wanted: Any) -> dict[str, Any]:
    """HTTP header names are case-insensitive: headerName and the keys of headers and
    envVars take the file's spelling when they differ only in case."""
    if not isinstance(wanted, dict) or have.get("type") != wanted.get("type"):
        return have
    result = dict(have)
    name, wanted_name = have.get("headerName"), wanted.get("headerName")
    if (
        isinstance(name, str)
        and isinstance(wanted_name, str)
        and name.lower() == wanted_name.lower()
    ):
        result["headerName"] = wanted_name
    for key in ("headers", "envVars"):
        mine, theirs = have.get(key), wanted.get(key)
        if isinstance(mine, dict) and isinstance(theirs, dict):
            spelling = {str(name).lower(): name for name in theirs}
            renamed = {spelling.get(str(name).lower(), name): value for name, value in mine.items()}
            if len(renamed) == len(mine):
                result[key] = renamed
    strategies, wanted_strategies = have.get("strategies"), wanted.get("strategies")
    if isinstance(strategies, list) and isinstance(wanted_strategies, list):
        result["strategies"] = [
            _align_auth(item, wanted_strategies[index])
            if isinstance(item, dict) and index < len(wanted_strategies)
            else item
            for index, item in enumerate(strategies)
        ]
    return result


def _comparable_live(visible: dict[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The live definition as compared, from its redacted form: fields this version
    does not know dropped (no file can declare them, so they are never drift), and a
    ``created`` stamp dropped when the file does not declare one."""
    dropped = _unknown_to_both(visible)
    if "created" in visible and "created" not in declared:
        dropped.add("created")
    if dropped:
        visible = {k: v for k, v in visible.items() if k not in dropped}
    return visible


def known_part(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """``body`` without the fields neither API generation knows: what a replace's
    body is compared by (it carries a newer server's fields back, never compared)."""
    unknown = _unknown_to_both(body)
    return {key: value for key, value in body.items() if key not in unknown} if unknown else body


def _unknown_to_both(definition: Mapping[str, Any]) -> set[str]:
    """The top-level fields neither API generation knows: a catalog-only field
    (``lifecycle``) is compared, a newer server's own one is not."""
    unknown = unknown_fields(definition)
    return set(unknown) & set(unknown_fields(definition, "catalog")) if unknown else set()


def _ignored_fields(model_id: str, rules: Sequence[IgnoreRule]) -> tuple[str, ...]:
    return tuple(
        path
        for rule in rules
        if fnmatch.fnmatchcase(model_id, rule.pattern)
        for path in rule.fields
    )


def _normalise(definition: Mapping[str, Any], ignored: Sequence[str]) -> dict[str, Any]:
    result = {key: value for key, value in definition.items() if value is not None}
    for path in ignored:
        _drop_path(result, path.split("."))
    return result


def _drop_path(target: dict[str, Any], keys: list[str]) -> None:
    """Remove ``keys`` from ``target`` without touching shared nested objects."""
    head, rest = keys[0], keys[1:]
    if head not in target:
        return
    if not rest:
        del target[head]
        return
    child = target[head]
    if isinstance(child, dict):
        copy = dict(child)
        _drop_path(copy, rest)
        target[head] = copy


# --- the changes between them --------------------------------------------------------


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Field-level differences from ``before`` (live) to ``after`` (desired), by path:
    exactly the changes DeepDiff reports (``ignore_numeric_type_changes``, so numbers
    compare by value: ``1`` equals ``1.0``), sorted with indexes in numeric order."""
    found: Found = []
    _walk(before, after, [], found)
    found.sort(key=lambda item: _path_sort_key(item[0]))
    return tuple(change for _, change in found)


def top_key(path: str) -> str:
    """The top-level field of a change's path: ``rateLimits`` for ``rateLimits[0].rpm``."""
    # A quoted top-level key never happens: every Definition field is a plain name.
    return path.split(".", 1)[0].split("[", 1)[0]


def _path_sort_key(keys: Sequence[Any]) -> list[tuple[int, int, str]]:
    # Indexes sort numerically (input[2] before input[10]); keys sort by name.
    return [(1, key, "") if isinstance(key, int) else (0, 0, str(key)) for key in keys]


# DeepDiff's threshold_to_diff_deeper: below this share of common keys it reports a
# changed mapping as a whole.
_DIFF_DEEPER = 0.33


def _walk(before: Any, after: Any, keys: Keys, found: Found) -> None:
    """Append the changes from ``before`` to ``after`` at ``keys``, as DeepDiff walks
    mappings and compares plain values; what the walk cannot be sure to report as
    DeepDiff does (lists whose items it would align, NaN, values of different
    types) goes to DeepDiff, that part alone."""
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
        _walk_list(before, after, keys, found)
    elif is_number(before) and is_number(after):
        if math.isnan(before) or math.isnan(after):
            found.extend(_deepdiff_changes(before, after, keys))
        elif before != after:
            found.append(_change(keys, ChangeKind.CHANGED, before, after))
    elif type(before) is type(after) and isinstance(before, (str, bool, type(None))):
        if before != after:
            found.append(_change(keys, ChangeKind.CHANGED, before, after))
    else:
        found.extend(_deepdiff_changes(before, after, keys))


def _walk_list(before: list[Any], after: list[Any], keys: Keys, found: Found) -> None:
    """A list as DeepDiff diffs one in order. Lists of plain values it aligns with
    difflib, and (when that finds more than one change) tries pairing items by index
    instead, keeping whichever reports fewer; only the common cases of that are done
    here (all items equal, or one item inserted or deleted), the rest is DeepDiff's.
    Lists holding a mapping or a list it pairs by index: so does this walk."""
    if _flat(before) and _flat(after):
        if len(before) == len(after) and all(map(_identical, before, after)):
            return
        edits = [
            opcode
            for opcode in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
            if opcode[0] != "equal"
        ]
        if not edits:
            return  # equal as difflib sees them (1 == 1.0 == True): DeepDiff reports nothing
        if len(edits) == 1:
            tag, start, end, start_after, end_after = edits[0]
            if tag == "insert" and end_after - start_after == 1:
                found.append(
                    _change([*keys, start_after], ChangeKind.ADDED, None, after[start_after])
                )
                return
            if tag == "delete" and end - start == 1:
                found.append(_change([*keys, start], ChangeKind.REMOVED, before[start], None))
                return
        found.extend(_deepdiff_changes(before, after, keys))
        return
    for index, old in enumerate(before[: len(after)]):
        _walk(old, after[index], [*keys, index], found)
    for index in range(len(after), len(before)):
        found.append(_change([*keys, index], ChangeKind.REMOVED, before[index], None))
    for index in range(len(before), len(after)):
        found.append(_change([*keys, index], ChangeKind.ADDED, None, after[index]))


_KIND_BY_REPORT = {
    "values_changed": ChangeKind.CHANGED,
    "type_changes": ChangeKind.CHANGED,
    "dictionary_item_added": ChangeKind.ADDED,
    "iterable_item_added": ChangeKind.ADDED,
    "dictionary_item_removed": ChangeKind.REMOVED,
    "iterable_item_removed": ChangeKind.REMOVED,
}


def _deepdiff_changes(before: Any, after: Any, keys: Keys) -> Found:
    """DeepDiff's changes from ``before`` to ``after``, which sit at ``keys``."""
    from deepdiff import DeepDiff  # 0.1 s to import: only when the plain walk gives up

    diff = DeepDiff(before, after, view="tree", ignore_numeric_type_changes=True)
    found: Found = []
    for report, levels in diff.items():
        kind = _KIND_BY_REPORT.get(report)
        if kind is None:
            continue
        for level in levels:
            found.append(
                _change(
                    [*keys, *level.path(output_format="list")],
                    kind,
                    None if kind is ChangeKind.ADDED else level.t1,
                    None if kind is ChangeKind.REMOVED else level.t2,
                )
            )
    return found


def _change(keys: Keys, kind: ChangeKind, before: Any, after: Any) -> tuple[Keys, FieldChange]:
    return keys, FieldChange(path=format_path(keys), kind=kind, before=before, after=after)


def _identical(old: Any, new: Any) -> bool:
    return type(old) is type(new) and old == new


def _flat(items: list[Any]) -> bool:
    return all(isinstance(item, (str, int, float, bool, type(None))) for item in items)
