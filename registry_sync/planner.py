"""(desired definitions, live entries, options) -> Plan. Pure: no I/O, no printing.

The only module that imports deepdiff. Equal entries are decided by a plain
equality test on the normalised form; deepdiff runs only on entries that differ.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from registry_sync.definition import unknown_fields
from registry_sync.live import LiveEntry
from registry_sync.loader import DesiredDefinition
from registry_sync.plan import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.secrets import redact
from registry_sync.values import format_path

_KIND_BY_REPORT = {
    "values_changed": ChangeKind.CHANGED,
    "type_changes": ChangeKind.CHANGED,
    "dictionary_item_added": ChangeKind.ADDED,
    "iterable_item_added": ChangeKind.ADDED,
    "dictionary_item_removed": ChangeKind.REMOVED,
    "iterable_item_removed": ChangeKind.REMOVED,
}


@dataclass(frozen=True)
class IgnoreRule:
    """Field paths (dotted, e.g. ``healthCheck`` or ``defaultParams.temperature``) not
    diffed for ids matching ``pattern`` (a glob, ``*`` for all)."""

    pattern: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. ``now`` (epoch seconds) fills ``created`` on create when a file
    omits it; ``models_dir`` and ``registry`` only describe the plan's sources."""

    now: int
    prune: bool = False
    ignore: tuple[IgnoreRule, ...] = field(default=())
    models_dir: str = "models"
    registry: str = ""


def build_plan(
    desired: Sequence[DesiredDefinition], live: Sequence[LiveEntry], options: PlanOptions
) -> Plan:
    """Compute one Change per id, sorted by id.

    Declared and absent live -> create; declared and immutable live -> read-only
    (a conflict when different); declared and mutable live -> no-op, update or
    replace; mutable live and undeclared -> unmanaged, or delete with ``prune``.
    Immutable live entries no file declares are only counted.
    """
    live_by_id = {entry.id: entry for entry in live}
    declared = {definition.id for definition in desired}
    changes = [_plan_declared(d, live_by_id.get(d.id), options) for d in desired]
    immutable_undeclared = 0
    unknown = sorted({name for entry in live for name in unknown_fields(entry.definition)})
    for entry in live:
        if entry.id in declared:
            continue
        if entry.immutable:
            immutable_undeclared += 1
        else:
            changes.append(_plan_undeclared(entry, options))
    changes.sort(key=lambda change: change.id)
    return Plan(
        changes=tuple(changes),
        models_dir=options.models_dir,
        registry=options.registry,
        prune=options.prune,
        immutable_undeclared=immutable_undeclared,
        unknown_live_fields=tuple(unknown),
    )


def _plan_declared(
    desired: DesiredDefinition, entry: LiveEntry | None, options: PlanOptions
) -> Change:
    if entry is None:
        body = _with_created(desired.body, options.now)
        return Change(
            desired.id,
            Action.CREATE,
            "not in the registry",
            body=body,
            file=desired.file,
            line=desired.line,
        )

    wanted, have = comparable(desired.id, desired.body, entry, options.ignore)
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
    if not differences:
        return Change(desired.id, Action.NO_OP, "in sync", file=desired.file, line=desired.line)

    forcing = [c.path for c in differences if c.forces_replace]
    if forcing:
        created = entry.definition.get("created", options.now)
        return Change(
            desired.id,
            Action.REPLACE,
            f"removing {_and_list(forcing)} needs delete and re-create: "
            "PATCH cannot remove a field",
            changes=differences,
            body=_with_created(desired.body, created),
            live_fingerprint=entry.fingerprint(),
            file=desired.file,
            line=desired.line,
        )
    changed_keys = {c.path.split(".", 1)[0].split("[", 1)[0] for c in differences}
    patch = {key: desired.body[key] for key in desired.body if key in changed_keys}
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

    Numbers compare by value (``1`` equals ``1.0``). A top-level field that exists
    only in ``before`` forces a replace, since PATCH cannot remove a field.
    """
    diff = DeepDiff(before, after, view="tree", ignore_numeric_type_changes=True)
    found: list[tuple[list[Any], FieldChange]] = []
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
                        forces_replace=kind is ChangeKind.REMOVED and len(keys) == 1,
                    ),
                )
            )
    found.sort(key=lambda item: _path_sort_key(item[0]))
    return tuple(change for _, change in found)


def _path_sort_key(keys: Sequence[Any]) -> list[tuple[int, int, str]]:
    # Indexes sort numerically (input[2] before input[10]); keys sort by name.
    return [(1, key, "") if isinstance(key, int) else (0, 0, str(key)) for key in keys]


def comparable(
    model_id: str, desired: Mapping[str, Any], entry: LiveEntry, ignore: Sequence[IgnoreRule]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(desired, live) as the planner compares them: ignored fields dropped from both,
    live secrets redacted. The entry is in sync exactly when the two are equal; the
    applier uses the same test to confirm that a write converged."""
    ignored = _ignored_fields(model_id, ignore)
    wanted = _normalise(desired, ignored)
    have = _normalise(_comparable_live(entry.definition, desired), ignored)
    return wanted, have


def _comparable_live(definition: dict[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The live definition as compared: secrets redacted, fields this version does
    not know dropped (no file can declare them, so they are never drift), and a
    ``created`` stamp dropped when the file does not declare one."""
    visible = redact(definition)
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
    result = dict(definition)
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


def _with_created(body: Mapping[str, Any], created: Any) -> dict[str, Any]:
    """The body to POST: the add endpoint requires ``created``; keep a declared one."""
    if "created" in body:
        return dict(body)
    return {**body, "created": created}


def _count_fields(count: int) -> str:
    return "1 top-level field differs" if count == 1 else f"{count} top-level fields differ"


def _and_list(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
