"""Live entries -> the files that declare them, in place: what ``pull`` writes.

:func:`pull_edits` is pure: from a plan and what it was made from, it works out each
value to write, into which file (the model file, or the selected environment's
overlay when the overlay set the value), at which path. :func:`apply_edits` opens
those files for editing (:mod:`registry_sync.yamlio.roundtrip`) and makes the edits;
nothing is written until the caller asks :func:`~registry_sync.yamlio.roundtrip.write_edited`.

What is written is what ``export`` would write for the entry (no secret: a
placeholder instead, no server-owned field, no field this version does not know),
compared as ``plan`` compares: a field ``ignore:`` leaves out, a ``created`` stamp
the file omits, a server default the file omits and a set spelt in another order
are not written, so after a pull the plan has nothing to do for the ids pulled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.desired.variables import has_variable
from registry_sync.errors import EditRefused
from registry_sync.export.files import SecretLeftOut, plan_export, printable
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.compare import comparable
from registry_sync.plan.model import Action, Plan
from registry_sync.schema.secrets import PLACEHOLDER_ENV_VAR
from registry_sync.schema.values import format_path, is_number
from registry_sync.settings.ignore import IgnoreRule
from registry_sync.yamlio.document import PathParts
from registry_sync.yamlio.roundtrip import DELETE, EditedFile, open_for_edit, value_at

__all__ = ["FieldEdit", "PullEdits", "Skipped", "apply_edits", "pull_edits"]


@dataclass(frozen=True)
class FieldEdit:
    """One value to write: ``path`` in the document of ``file`` whose root starts at
    ``document_line``; ``value`` :data:`~registry_sync.yamlio.roundtrip.DELETE` removes
    the key. ``field`` is the path in the definition, for messages."""

    id: str
    file: str
    document_line: int
    path: PathParts
    value: Any
    field: str


@dataclass(frozen=True)
class Skipped:
    """What pull leaves alone, and why (safe to print: never a value)."""

    id: str
    field: str  # "" for the whole entry
    reason: str


@dataclass(frozen=True)
class PullEdits:
    """The edits of a pull, what it leaves alone, the secrets it did not write, and the
    live ids no file declares (written as new files with ``--include-new``)."""

    edits: tuple[FieldEdit, ...]
    skipped: tuple[Skipped, ...]
    secrets: tuple[tuple[str, SecretLeftOut], ...]
    undeclared: tuple[str, ...]
    pulled: tuple[str, ...]


_READ_ONLY = "read-only: the server defines it itself; pull never writes it into files"
_NOT_LIVE = "not in the registry: left as declared (plan would create it)"
_ACTIVATION = (
    "activation is not pulled: set activation: in registry-sync.yaml by hand "
    "(export prints the block that matches the registry)"
)


def pull_edits(
    plan: Plan,
    definitions: Sequence[DesiredDefinition],
    entries: Sequence[LiveEntry],
    *,
    ignore: Sequence[IgnoreRule] = (),
    server_defaults: Mapping[str, Any] | None = None,
    base: Mapping[str, DesiredDefinition] | None = None,
) -> PullEdits:
    """The edits that make the files declare what the registry holds, for every
    entry ``plan`` (made from ``definitions`` and ``entries``) would update or
    replace. ``base`` holds the definitions as models/ declares them, before the
    environment's overlay: a value an overlay set and the registry lacks is removed
    there, or set to null when models/ declares it."""
    declared = {definition.id: definition for definition in definitions}
    live = {entry.id: entry for entry in entries}
    edits: list[FieldEdit] = []
    skipped: list[Skipped] = []
    secrets: list[tuple[str, SecretLeftOut]] = []
    undeclared: list[str] = []
    pulled: list[str] = []
    for change in plan.changes:
        if change.activate is not None or change.deactivate is not None:
            skipped.append(Skipped(change.id, "activation", _ACTIVATION))
        if change.action in (Action.UPDATE, Action.REPLACE):
            definition, entry = declared[change.id], live[change.id]
            exported = plan_export([entry], api=plan.api).files[0]
            clean = dataclasses.replace(entry, definition=exported.definition or {})
            wanted, have = comparable(entry.id, definition.body, clean, ignore, server_defaults)
            found: list[tuple[PathParts, Any]] = []
            _walk(wanted, have, (), found)
            for path, value in found:
                placed = _place(definition, path, value, (base or {}).get(entry.id), skipped)
                if placed is not None:
                    edits.append(placed)
            secrets.extend((entry.id, secret) for secret in exported.secrets)
            pulled.append(entry.id)
        elif change.action is Action.READ_ONLY and change.conflict:
            skipped.append(Skipped(change.id, "", _READ_ONLY))
        elif change.action is Action.CREATE:
            skipped.append(Skipped(change.id, "", _NOT_LIVE))
        elif change.action in (Action.DELETE, Action.UNMANAGED):
            undeclared.append(change.id)
    return PullEdits(tuple(edits), tuple(skipped), tuple(secrets), tuple(undeclared), tuple(pulled))


def _walk(mine: Any, theirs: Any, path: PathParts, found: list[tuple[PathParts, Any]]) -> None:
    """The smallest edits that turn ``mine`` into ``theirs``: mappings key by key,
    lists item by item (extra items appended, missing ones removed from the end)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        found.extend(((*path, key), DELETE) for key in mine if key not in theirs)
        for key, value in theirs.items():
            if key in mine:
                _walk(mine[key], value, (*path, key), found)
            else:
                found.append(((*path, key), value))
    elif isinstance(mine, list) and isinstance(theirs, list):
        for index, (old, new) in enumerate(zip(mine, theirs, strict=False)):
            _walk(old, new, (*path, index), found)
        found.extend(((*path, index), theirs[index]) for index in range(len(mine), len(theirs)))
        found.extend(((*path, index), DELETE) for index in reversed(range(len(theirs), len(mine))))
    elif not _same(mine, theirs):
        found.append((path, theirs))


def _same(mine: Any, theirs: Any) -> bool:
    # As plan compares: numbers by value (1 is 1.0), anything else by type and value.
    if is_number(mine) and is_number(theirs):
        return bool(mine == theirs)
    return type(mine) is type(theirs) and mine == theirs


def _place(
    definition: DesiredDefinition,
    path: PathParts,
    value: Any,
    base: DesiredDefinition | None,
    skipped: list[Skipped],
) -> FieldEdit | None:
    """Where ``value`` at ``path`` goes: the overlay that set it (or the mapping
    holding it), else the file that declares the definition."""
    field = format_path(path)
    if value == PLACEHOLDER_ENV_VAR and _has(definition.body, path):
        skipped.append(
            Skipped(
                definition.id,
                field,
                "the registry holds a secret where the file names its variable: the "
                "file's name is kept",
            )
        )
        return None
    inserting = value is not DELETE and not _has(definition.body, path)
    origin = _overlay_origin(definition, path[:-1] if inserting else path)
    if origin is None:
        if not inserting and _set_inside(definition, path):
            skipped.append(
                Skipped(
                    definition.id,
                    field,
                    "set partly by the model file and partly by the overlay: edit it by hand",
                )
            )
            return None
        return FieldEdit(definition.id, definition.file, definition.line, path, value, field)
    file, line = origin
    if value is DELETE and base is not None and _has(base.body, path):
        value = None  # the overlay's null removes what models/ declares
    return FieldEdit(definition.id, file, line, path, value, field)


def _has(body: Any, path: PathParts) -> bool:
    return value_at(body, path) is not DELETE


def _overlay_origin(definition: DesiredDefinition, path: PathParts) -> tuple[str, int] | None:
    """The overlay file and document that set ``path`` or a value holding it."""
    best: PathParts | None = None
    found: tuple[str, int] | None = None
    for file, line, where in (definition.origins or {}).values():
        if path[: len(where)] == where and (best is None or len(where) > len(best)):
            best, found = where, (file, line)
    return found


def _set_inside(definition: DesiredDefinition, path: PathParts) -> bool:
    return any(
        len(where) > len(path) and where[: len(path)] == path
        for _, _, where in (definition.origins or {}).values()
    )


def apply_edits(edits: Sequence[FieldEdit]) -> tuple[list[EditedFile], list[Skipped]]:
    """Open each file ``edits`` touch and make its edits (nothing is written). A value
    the file writes with ``${VAR}`` is left as written, and reported."""
    files: dict[str, EditedFile] = {}
    skipped: list[Skipped] = []
    for edit in edits:
        file = files.get(edit.file)
        if file is None:
            file = files[edit.file] = open_for_edit(Path(edit.file))
        document = file.document_at(edit.document_line)
        if document is None:
            raise EditRefused(
                f"{file.shown}: no document starts at line {edit.document_line} any more: "
                "the file changed while registry-sync ran; nothing was written, run it again"
            )
        written = file.value(document, edit.path)
        if has_variable(written):
            skipped.append(
                Skipped(
                    edit.id,
                    edit.field,
                    f"{printable(edit.file)} writes it with ${{VAR}}: left as written "
                    "(change the variable's value in registry-sync.yaml vars:)",
                )
            )
            continue
        file.set(document, edit.path, edit.value)
    return list(files.values()), skipped
