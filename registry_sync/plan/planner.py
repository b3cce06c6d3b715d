"""(desired definitions, live entries, options) -> Plan. Pure: no I/O, no printing.

What is compared, and how differences become field changes: compare.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.desired.ownership import is_owned
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.activation import BYO, plan_platform_name, with_activation
from registry_sync.plan.compare import (
    comparable,
    field_changes,
    in_sync_as_read,
    top_key,
)
from registry_sync.plan.model import Action, Change, FieldChange, Plan
from registry_sync.schema.fields import DEFINITION_FIELDS, unknown_fields
from registry_sync.schema.secrets import secret_paths
from registry_sync.settings.ignore import IgnoreRule

__all__ = ["PlanOptions", "build_plan", "replace_problems"]


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
    # The API generation the registry speaks. In the catalog generation, the activation
    # choices of registry-sync.yaml: declared id globs kept defined but not active,
    # platform names (name, source) this repository serves, and the names it may take
    # from another source.
    api: str = "registry"
    inactive: tuple[str, ...] = ()
    activate: tuple[tuple[str, str], ...] = ()
    switch: tuple[str, ...] = ()


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
    # A model file declares the organisation's own (byo) definition: in the catalog, a
    # name only a platform source defines is one the file would define anew.
    defined = (
        {entry.id: entry for entry in live if entry.source == BYO}
        if options.api == "catalog"
        else live_by_id
    )
    declared = {definition.id for definition in desired}
    changes = [_plan_declared(d, defined.get(d.id), options) for d in desired]
    if options.api == "catalog":
        changes = [
            with_activation(
                change,
                live_by_id.get(change.id),
                inactive=options.inactive,
                switch=options.switch,
            )
            for change in changes
        ]
        changes.extend(
            plan_platform_name(name, source, live_by_id.get(name), switch=options.switch)
            for name, source in options.activate
            if is_owned(name, options.owns)
        )
        declared.update(name for name, _ in options.activate)
    immutable_undeclared = 0
    unknown = sorted(
        {
            name
            for entry in live
            if is_owned(entry.id, options.owns)
            for name in unknown_fields(entry.definition, options.api)
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
    changes = [_with_health(change, defined.get(change.id)) for change in changes]
    return Plan(
        changes=tuple(changes),
        models_dir=options.models_dir,
        registry=options.registry,
        prune=options.prune,
        immutable_undeclared=immutable_undeclared,
        unknown_live_fields=tuple(unknown),
        environment=options.environment,
        api=options.api,
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
        # Fields a newer server holds that this version does not know survive the
        # re-create (a secret among them cannot be carried by a reviewed plan).
        for name in unknown_fields(entry.definition, options.api):
            value = entry.definition[name]
            if name not in body and next(secret_paths({name: value}), None) is None:
                body[name] = value
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


def _field_order(name: str) -> tuple[int, str]:
    try:
        return (DEFINITION_FIELDS.index(name), name)
    except ValueError:
        return (len(DEFINITION_FIELDS), name)


def _count_fields(count: int) -> str:
    return "1 top-level field differs" if count == 1 else f"{count} top-level fields differ"
