"""(desired definitions, live entries, options) -> Plan. Pure: no I/O, no printing.

The only module that imports deepdiff, lazily. Equal entries are decided by a plain
equality test on the normalised form; entries that differ by a plain walk
(fielddiff.py), and deepdiff only where that walk cannot match it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.desired.ownership import is_owned
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.fielddiff import Keys, NeedsDeepDiff, plain_changes
from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.schema.fields import DEFINITION_FIELDS, unknown_fields
from registry_sync.schema.values import deep_copy, format_path
from registry_sync.settings.ignore import IgnoreRule

_KIND_BY_REPORT = {
    "values_changed": ChangeKind.CHANGED,
    "type_changes": ChangeKind.CHANGED,
    "dictionary_item_added": ChangeKind.ADDED,
    "iterable_item_added": ChangeKind.ADDED,
    "dictionary_item_removed": ChangeKind.REMOVED,
    "iterable_item_removed": ChangeKind.REMOVED,
}


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. ``replace`` names declared, mutable live ids to delete and
    re-create (``--replace``); ``server_defaults`` maps dotted field paths to the value
    a server fills in when a file omits the field; ``models_dir`` and ``registry``
    only describe the plan's sources."""

    prune: bool = False
    ignore: tuple[IgnoreRule, ...] = field(default=())
    replace: frozenset[str] = frozenset()
    server_defaults: Mapping[str, Any] = field(default_factory=dict)
    models_dir: str = "models"
    registry: str = ""
    # Id globs this repository manages (``owns:``); live entries outside are not planned.
    owns: tuple[str, ...] = ()
    environment: str | None = None


def replace_problems(
    replace: Iterable[str], desired: Sequence[DesiredDefinition], live: Sequence[LiveEntry]
) -> list[str]:
    """Why ids given to ``--replace`` cannot be replaced: each must be declared in
    models/ and live and mutable in the registry. Empty when all can."""
    declared = {definition.id for definition in desired}
    live_by_id = {entry.id: entry for entry in live}
    found: list[str] = []
    for model_id in sorted(set(replace)):
        entry = live_by_id.get(model_id)
        if entry is not None and entry.immutable:
            found.append(
                f"--replace {model_id}: immutable on the server (source {entry.source!r}); "
                "it can never be deleted or re-created through the API"
            )
        elif model_id not in declared:
            found.append(
                f"--replace {model_id}: no file in models/ declares it; replace re-creates "
                "a declared entry from its file (give the exact id)"
            )
        elif entry is None:
            found.append(
                f"--replace {model_id}: not in the registry, so there is nothing to replace; "
                "plan without --replace creates it"
            )
    return found


def build_plan(
    desired: Sequence[DesiredDefinition], live: Sequence[LiveEntry], options: PlanOptions
) -> Plan:
    """Compute one Change per id, sorted by id.

    Declared and absent live -> create; declared and immutable live -> read-only
    (a conflict when different); declared and mutable live -> replace when
    ``options.replace`` names it, else no-op or update (a field live but no longer
    declared is patched with null, which clears it); mutable live and undeclared ->
    unmanaged, or delete with ``prune``.
    Immutable live entries no file declares are only counted.
    """
    live_by_id = {entry.id: entry for entry in live}
    declared = {definition.id for definition in desired}
    changes = [_plan_declared(d, live_by_id.get(d.id), options) for d in desired]
    immutable_undeclared = 0
    unknown = sorted(
        {
            name
            for entry in live
            if is_owned(entry.id, options.owns)
            for name in unknown_fields(entry.definition)
        }
    )
    for entry in live:
        if entry.id in declared or not is_owned(entry.id, options.owns):
            continue
        if entry.immutable:
            immutable_undeclared += 1
        else:
            changes.append(_plan_undeclared(entry, options))
    changes.sort(key=lambda change: change.id)
    changes = [_with_health(change, live_by_id.get(change.id)) for change in changes]
    return Plan(
        changes=tuple(changes),
        models_dir=options.models_dir,
        registry=options.registry,
        prune=options.prune,
        immutable_undeclared=immutable_undeclared,
        unknown_live_fields=tuple(unknown),
        environment=options.environment,
    )


def _plan_declared(
    desired: DesiredDefinition, entry: LiveEntry | None, options: PlanOptions
) -> Change:
    if entry is None:
        return Change(
            desired.id,
            Action.CREATE,
            "not in the registry",
            body=dict(desired.body),
            file=desired.file,
            line=desired.line,
        )

    if in_sync_as_read(desired.body, entry.definition):
        differences: tuple[FieldChange, ...] = ()
    else:
        wanted, have = comparable(
            desired.id, desired.body, entry, options.ignore, options.server_defaults
        )
        differences = () if wanted == have else field_changes(have, wanted)

    if entry.immutable:
        if not differences:
            return Change(
                desired.id,
                Action.READ_ONLY,
                "immutable on the server; in sync",
                file=desired.file,
                line=desired.line,
            )
        return Change(
            desired.id,
            Action.READ_ONLY,
            f"immutable on the server (source {entry.source!r}): it can never be changed "
            f"through the API; make {options.models_dir}/ match it or remove the file",
            changes=differences,
            live_fingerprint=entry.fingerprint(),
            conflict=True,
            file=desired.file,
            line=desired.line,
        )
    if desired.id in options.replace:
        body = dict(desired.body)
        created = entry.definition.get("created")
        if "created" not in body and created is not None:
            body["created"] = created  # the entry keeps its stamp
        return Change(
            desired.id,
            Action.REPLACE,
            "--replace asks to delete and re-create it",
            changes=differences,
            body=body,
            live_fingerprint=entry.fingerprint(),
            file=desired.file,
            line=desired.line,
        )
    if not differences:
        return Change(desired.id, Action.NO_OP, "in sync", file=desired.file, line=desired.line)

    changed_keys = {top_key(c.path) for c in differences}
    # A field live but no longer declared is cleared with null; the rest are sent whole.
    patch = {key: desired.body.get(key) for key in sorted(changed_keys, key=_field_order)}
    return Change(
        desired.id,
        Action.UPDATE,
        _count_fields(len(changed_keys)),
        changes=differences,
        patch=patch,
        live_fingerprint=entry.fingerprint(),
        file=desired.file,
        line=desired.line,
    )


def _with_health(change: Change, entry: LiveEntry | None) -> Change:
    """``change`` with its live entry's health when the plan writes or conflicts with
    it, or when a declared entry is reported unavailable (unchanged healthy entries,
    the bulk of a registry, cost one check)."""
    health = None if entry is None else entry.health
    if health is None or change.action is Action.UNMANAGED:
        return change
    unchanged = change.action is Action.NO_OP or (
        change.action is Action.READ_ONLY and not change.conflict
    )
    if unchanged and health.is_available:
        return change
    return replace(change, live_health=health)


def _plan_undeclared(entry: LiveEntry, options: PlanOptions) -> Change:
    if options.prune:
        return Change(
            entry.id,
            Action.DELETE,
            f"not declared in {options.models_dir}/ and --prune is set",
            live_fingerprint=entry.fingerprint(),
        )
    return Change(
        entry.id,
        Action.UNMANAGED,
        f"not declared in {options.models_dir}/; left alone (--prune deletes it)",
    )


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Field-level differences from ``before`` (live) to ``after`` (desired), by path.

    Numbers compare by value (``1`` equals ``1.0``). A plain walk finds them; DeepDiff
    only where that walk cannot say what DeepDiff would (lists that change length).
    """
    try:
        found = plain_changes(before, after)
    except NeedsDeepDiff:
        found = _deepdiff_changes(before, after)
    found.sort(key=lambda item: _path_sort_key(item[0]))
    return tuple(change for _, change in found)


def _deepdiff_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[Keys, FieldChange]]:
    from deepdiff import DeepDiff  # 0.1 s to import: only when the plain walk gives up

    diff = DeepDiff(before, after, view="tree", ignore_numeric_type_changes=True)
    found: list[tuple[Keys, FieldChange]] = []
    for report, levels in diff.items():
        kind = _KIND_BY_REPORT.get(report)
        if kind is None:
            continue
        for level in levels:
            keys = level.path(output_format="list")
            found.append(
                (
                    keys,
                    FieldChange(
                        path=format_path(keys),
                        kind=kind,
                        before=None if kind is ChangeKind.ADDED else level.t1,
                        after=None if kind is ChangeKind.REMOVED else level.t2,
                    ),
                )
            )
    return found


def _path_sort_key(keys: Sequence[Any]) -> list[tuple[int, int, str]]:
    # Indexes sort numerically (input[2] before input[10]); keys sort by name.
    return [(1, key, "") if isinstance(key, int) else (0, 0, str(key)) for key in keys]


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
    :func:`registry_sync.schema.server.without_nulls`) equals the file's, but for a ``created``
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
    dropped = set(unknown_fields(visible))
    if "created" in visible and "created" not in declared:
        dropped.add("created")
    if dropped:
        visible = {k: v for k, v in visible.items() if k not in dropped}
    return visible


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


def top_key(path: str) -> str:
    """The top-level field of a change's path: ``rateLimits`` for ``rateLimits[0].rpm``."""
    # A quoted top-level key never happens: every Definition field is a plain name.
    return path.split(".", 1)[0].split("[", 1)[0]


def _field_order(name: str) -> tuple[int, str]:
    try:
        return (DEFINITION_FIELDS.index(name), name)
    except ValueError:
        return (len(DEFINITION_FIELDS), name)


def _count_fields(count: int) -> str:
    return "1 top-level field differs" if count == 1 else f"{count} top-level fields differ"
