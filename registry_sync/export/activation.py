"""The catalog's activation choices, written into ``registry-sync.yaml`` by export.

After an export of a catalog, model files declare the byo definitions written; for
the first plan to be empty the project configuration must also say what the catalog
serves (see :mod:`registry_sync.plan.activation`):

- an exported byo definition whose name byo does not serve goes to
  ``activation.inactive`` (its exact id), else plan would activate it;
- a name served from ``serving`` or ``cluster`` that no exported file declares goes
  to ``activation.activate`` with its source, so the repository records the platform
  models it relies on.

:func:`activation_choices` works them out (pure); :func:`plan_config_edit` decides
what becomes of ``registry-sync.yaml``: created, appended to as text (comments and
layout kept, checked by reading the result back with the project's own loader before
anything is written), or left alone with the block to add when it already says
something else. :func:`write_config_edit` is the only function here that writes.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from registry_sync.errors import ConfigError, ExportError, InvalidConfig
from registry_sync.live.catalog import BYO
from registry_sync.live.entries import LiveEntry
from registry_sync.printable import printable
from registry_sync.schema.generations import Api
from registry_sync.settings.config import ProjectConfig, parse_config
from registry_sync.settings.defaults import ACTIVATION_SOURCES
from registry_sync.yamlio.source import parse_documents

__all__ = [
    "ActivationChoices",
    "ConfigEdit",
    "activation_block",
    "activation_choices",
    "plan_config_edit",
    "write_config_edit",
]

CATALOG: Api = "catalog"
_COMMENT = "# Added by registry-sync export, from what the registry speaks and serves."
_ACTIVATION_COMMENT = (
    "# activation.inactive: exported byo definitions whose names are not active;",
    "# activation.activate: platform names served from serving or cluster.",
)
# What activation.activate takes as a name (settings/config.py checks the same).
_ONE_NAME = re.compile(r"^\S+$")
_GLOB = re.compile(r"([*?\[])")


@dataclass(frozen=True)
class ActivationChoices:
    """What registry-sync.yaml must say for the first plan after an export to be empty.

    ``inactive``: exported ids byo does not serve, exact (not patterns); ``activate``:
    ``(name, source)`` of platform names served now; ``unlisted``: names served from
    a platform source that ``activation.activate`` cannot hold (not one word, or with
    a pattern character), left out, made printable. Each sorted by name."""

    inactive: tuple[str, ...] = ()
    activate: tuple[tuple[str, str], ...] = ()
    unlisted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.inactive or self.activate)

    def patterns(self) -> tuple[str, ...]:
        """``inactive`` as registry-sync.yaml holds it: globs that match each id only."""
        return tuple(_exact_pattern(model_id) for model_id in self.inactive)


def activation_choices(
    entries: Sequence[LiveEntry], exported: Collection[str], names: Collection[str] | None = None
) -> ActivationChoices:
    """The choices for catalog ``entries`` when the byo definitions ``exported`` are
    declared: every name's, or only those in ``names`` (``export --id``).

    A name with a byo definition that is exported is never in ``activate``, even when
    a platform source serves it: a declared name cannot be activated from another
    source, and ``inactive`` keeps plan from touching the name's holder."""
    inactive: list[str] = []
    activate: list[tuple[str, str]] = []
    unlisted: list[str] = []
    for entry in entries:
        if names is not None and entry.id not in names:
            continue
        serving = None if entry.activation is None else entry.activation.active
        if entry.id in exported:
            if serving != BYO:
                inactive.append(entry.id)
        elif serving in ACTIVATION_SOURCES:
            if _ONE_NAME.match(entry.id) and not _GLOB.search(entry.id):
                activate.append((entry.id, serving))
            else:
                unlisted.append(printable(entry.id))
    return ActivationChoices(
        tuple(sorted(inactive)), tuple(sorted(activate)), tuple(sorted(unlisted))
    )


def _exact_pattern(model_id: str) -> str:
    # inactive takes globs: a pattern character in an id must match itself only.
    return _GLOB.sub(r"[\1]", model_id)


def _holds(
    config: ProjectConfig,
    choices: ActivationChoices,
    exported: Collection[str],
    names: Collection[str] | None,
) -> bool:
    """True when ``config`` already makes the choices the export needs: each exported
    id is inactive exactly when the choices say so, and the platform names it
    activates (among ``names``, when given) are those the choices list."""
    for model_id in exported:
        matched = any(fnmatch.fnmatchcase(model_id, pattern) for pattern in config.inactive)
        if matched != (model_id in choices.inactive):
            return False
    activated = {pair for pair in config.activate if names is None or pair[0] in names}
    return activated == set(choices.activate)


def activation_block(choices: ActivationChoices, indent: str = "") -> list[str]:
    """The ``activation:`` mapping that makes ``choices``, as lines of YAML (block
    style, every name double-quoted), each prefixed with ``indent``."""
    lines = ["activation:"]
    if choices.inactive:
        lines.append("  inactive:")
        lines.extend(f"    - {_quoted(pattern)}" for pattern in choices.patterns())
    if choices.activate:
        lines.append("  activate:")
        lines.extend(
            f"    - {{name: {_quoted(name)}, source: {source}}}"
            for name, source in choices.activate
        )
    return [f"{indent}{line}" for line in lines]


def _quoted(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar; ASCII-only keeps line separators out.
    return json.dumps(text, ensure_ascii=True)


@dataclass(frozen=True)
class ConfigEdit:
    """What export does to the project configuration at ``path``.

    ``text`` is the file's new content, None when nothing is written; ``created``
    says the file is new; ``added`` names the keys written (``api``,
    ``activation``); nothing written and no ``warning`` means the file already says
    what is needed. ``warning`` (with ``block``, the lines to add by hand) says it
    says something else, so the first plan will not be empty. ``notes`` are said on
    stderr whatever happens."""

    path: Path
    choices: ActivationChoices
    text: str | None = None
    created: bool = False
    added: tuple[str, ...] = ()
    warning: str | None = None
    block: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def plan_config_edit(
    path: Path,
    existing: str | None,
    choices: ActivationChoices,
    *,
    exported: Collection[str],
    names: Collection[str] | None = None,
    environment: str | None = None,
) -> ConfigEdit:
    """How to make the configuration at ``path`` (its text ``existing``, None when
    there is no such file) hold ``api: catalog`` and ``choices``.

    - No file: create it with both.
    - A file: append the keys it lacks (a top-level ``api``; ``activation`` when the
      choices are needed and it has none), as text, keeping what is there. The result
      is read back with the project's loader first: if it would not load, or would not
      say exactly what was there plus ``api: catalog`` and ``choices``, raises
      :class:`ExportError` (nothing is written).
    - A file whose ``activation`` already says something else is left as it is:
      the edit carries a warning and the block to add.
    - With ``environment``, the choices are that environment's: a file is never
      edited (an edit at the top level would reach every environment), and when its
      settings do not already hold the choices the edit carries the block for its
      entry.
    """
    display = _display(path)
    if existing is None:
        lines = [_COMMENT, "api: catalog"]
        if choices:
            lines[1:1] = _ACTIVATION_COMMENT
            lines.extend(activation_block(choices))
        text = "".join(f"{line}\n" for line in lines)
        _check(path, text, ProjectConfig(), True, choices if choices else None, text)
        added: tuple[str, ...] = ("api", "activation") if choices else ("api",)
        return ConfigEdit(path, choices, text=text, created=True, added=added)
    body = existing.removeprefix("\ufeff")
    current = parse_config(body, path)  # an invalid file stops here, every problem said
    keys = _top_level_keys(body)
    notes: list[str] = []
    if environment is not None:
        selected = current.select(environment)
        if selected.api not in (None, CATALOG):
            notes.append(_pinned_note(display, selected.api, f"environment {environment}"))
        if _holds(selected, choices, exported, names):
            return ConfigEdit(path, choices, notes=tuple(notes))
        return ConfigEdit(
            path,
            choices,
            warning=(
                f"{display} was left as it is: with --env {environment}, the activation "
                f"choices are that environment's; add this to its entry (environments: "
                f"{environment}:), or the first plan will not be empty"
            ),
            block=tuple(activation_block(choices)),
            notes=tuple(notes),
        )
    want_api = "api" not in keys
    if not want_api and current.api not in (None, CATALOG):
        notes.append(_pinned_note(display, current.api, "the top level"))
    held = _holds(current, choices, exported, names)
    if not held and "activation" in keys:
        return ConfigEdit(
            path,
            choices,
            warning=(
                f"{display} already has an activation: block that differs from what the "
                "registry serves; it was left as it is, so the first plan will not be empty. "
                "To match the registry, make its activation: say"
            ),
            block=tuple(activation_block(choices)),
            notes=tuple(notes),
        )
    want_activation = not held
    if not want_api and not want_activation:
        return ConfigEdit(path, choices, notes=tuple(notes))
    newline = "\r\n" if "\r\n" in existing else "\n"
    lines = [_COMMENT, *(_ACTIVATION_COMMENT if want_activation else ())]
    if want_api:
        lines.append("api: catalog")
    if want_activation:
        lines.extend(activation_block(choices))
    separator = "" if not existing or existing.endswith("\n") else newline
    # A blank line first, unless the file is empty: the addition reads as its own block.
    lead = newline if existing.strip("\ufeff") else ""
    addition = lead + newline.join(lines) + newline
    _check(
        path,
        body + separator + addition,
        current,
        want_api,
        choices if want_activation else None,
        addition,
    )
    added = tuple(
        key for key, wanted in (("api", want_api), ("activation", want_activation)) if wanted
    )
    return ConfigEdit(
        path, choices, text=existing + separator + addition, added=added, notes=tuple(notes)
    )


def _pinned_note(display: str, api: str | None, where: str) -> str:
    return (
        f"{display} pins api: {api} in {where}, and was left as it is; plan against "
        "this registry needs api: catalog (or no api, to detect it)"
    )


def _top_level_keys(text: str) -> set[str]:
    documents, _error = parse_documents(text)  # a file that loads has no error
    data = next((document.data for document in documents if document.data is not None), None)
    return {str(key) for key in data} if isinstance(data, dict) else set()


def _check(
    path: Path,
    text: str,
    current: ProjectConfig,
    api: bool,
    choices: ActivationChoices | None,
    addition: str,
) -> None:
    """Raise :class:`ExportError` unless ``text`` loads as ``current`` plus ``api:
    catalog`` (when ``api``) and ``choices`` (when given), nothing else changed."""
    intended = current
    if api:
        intended = dataclasses.replace(intended, api=CATALOG)
    if choices is not None:
        intended = dataclasses.replace(
            intended, inactive=choices.patterns(), activate=choices.activate
        )
    display = _display(path)
    intended = dataclasses.replace(intended, file=display)
    why = None
    try:
        found = parse_config(text, path)
    except InvalidConfig as exc:
        why = "it would not load (" + "; ".join(str(problem) for problem in exc.problems) + ")"
    except ConfigError as exc:
        why = f"it would not load ({exc})"
    else:
        if found != intended:
            why = "it would not read back as the settings intended"
    if why is not None:
        raise ExportError(
            f"export failed: cannot add the catalog's settings to {display}: with them "
            f"appended, {why}. Nothing was written; add this to {display} by hand, then "
            f"run export again:\n{addition.strip()}"
        )


def write_config_edit(edit: ConfigEdit) -> None:
    """Write ``edit.text`` to ``edit.path`` (nothing when it is None). The new text
    replaces the file in one step, so a reader never sees half of it; a symbolic link
    is refused, as export never writes through one. Raises :class:`ExportError`."""
    if edit.text is None:
        return
    path = edit.path
    if path.is_symlink():
        raise ExportError(
            f"export failed: {_display(path)} is a symbolic link; export never writes "
            "through one: add the settings by hand"
        )
    temporary = path.with_name(f".{path.name}.export-{os.getpid()}")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as handle:
            handle.write(edit.text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(
            f"export failed: cannot write {_display(path)}: {exc.strerror or exc}"
        ) from exc


def _display(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return path.as_posix()
