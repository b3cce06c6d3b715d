"""The definitions one environment gets: models/, its overlay, its variables, its owns.

An overlay folder holds YAML documents keyed by ``id``. A document for an id that
models/ declares is a partial definition merged over it: mappings merge by key, lists
and scalars replace, ``null`` removes the field. A document for an id models/ does
not declare is a whole new definition, checked as models/ files are. A document
``exclude: [ID, ...]`` drops those ids from this environment.

``${NAME}`` inside string values (models/ and overlay) is replaced by ``NAME`` from
the environment's ``vars:``; the process environment is never read, so a plan is
reproducible and no secret can be interpolated into a request body. An undefined
name is an error at its line. ``$`` not followed by ``{`` is left as written.

Every value an overlay set keeps its origin (file, document, path) in
:attr:`DesiredDefinition.origins`, so problems and plan lines point at the overlay
line. Without an environment selected nothing here runs but the ``owns:`` check,
so loading a repository without ``environments:`` costs what it did.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_sync.desired.loader import (
    SECRET_MESSAGE,
    SERVER_OWNED_MESSAGE,
    YAML_SUFFIXES,
    DesiredDefinition,
    LoadResult,
    check_text_document,
    definition_errors,
    line_of,
)
from registry_sync.desired.ownership import outside_owns
from registry_sync.desired.variables import (
    Substitution,
    has_variable,
    replaced_text,
    substituted_id,
    with_ids_substituted,
)
from registry_sync.errors import ConfigError
from registry_sync.schema.problems import Problem, Severity
from registry_sync.schema.secrets import secret_paths
from registry_sync.schema.server import SERVER_OWNED_FIELDS, without_nulls
from registry_sync.schema.values import deep_copy, format_path
from registry_sync.yamlio.document import Document, PathParts
from registry_sync.yamlio.files import Unreadable, display_path, read_model_file, walk_model_files

if TYPE_CHECKING:
    from registry_sync.settings.config import ProjectConfig

__all__ = ["Origin", "effective_definitions", "origin_of"]

Origin = tuple[str, int, PathParts]  # file, its document's line, the path in it


@dataclasses.dataclass(frozen=True)
class _Patch:
    """One overlay document that names an id."""

    id: str
    data: dict[str, Any]
    file: str
    line: int  # its document's line
    text: str
    document: Document


def effective_definitions(
    base: LoadResult, config: ProjectConfig, api: str = "registry"
) -> LoadResult:
    """``base`` (models/ as loaded) as the environment ``config`` selects sees it:
    overlay merged, variables replaced, ids outside ``owns`` reported; what the merge
    makes is validated for API generation ``api``. Without an environment only the
    ``owns`` check runs."""
    if config.environment is None:
        if not config.owns and not any("${" in d.id for d in base.definitions):
            return base
        problems = list(base.problems)
        kept = with_ids_substituted(base.definitions, None, problems)
        problems.extend(outside_owns(kept, config.owns, config.file or "registry-sync.yaml"))
        return dataclasses.replace(
            base, definitions=tuple(kept), problems=tuple(sorted(set(problems)))
        )
    problems = list(base.problems)
    by_id = {
        definition.id: definition
        for definition in with_ids_substituted(base.definitions, config.vars, problems)
    }
    original = dict(by_id)
    files = base.files
    changed: set[str] = set()
    if config.overlay is not None:
        patches, excludes, files_read = _read_overlay(config.overlay, config.environment, problems)
        patches = _patches_substituted(patches, config.vars, problems)
        excludes = {replaced_text(model_id, config.vars): at for model_id, at in excludes.items()}
        files += files_read
        for model_id, (file, line, path) in excludes.items():
            if model_id not in by_id:
                problems.append(
                    Problem(
                        file,
                        line,
                        format_path(path),
                        f"exclude: {model_id!r} is not "
                        "declared in models/; remove it from the list",
                    )
                )
            else:
                del by_id[model_id]
        for patch in patches:
            if patch.id in excludes:
                problems.append(_at(patch, ("id",), "this id is also excluded; keep one"))
            elif patch.id in by_id:
                by_id[patch.id] = _merged(by_id[patch.id], patch, problems)
                changed.add(patch.id)
            else:
                found, definition = check_text_document(patch.file, patch.text, patch.document, api)
                problems.extend(found)
                if definition is not None:
                    # Its id as substituted (the document holds it as written).
                    body = {**definition.body, "id": patch.id}
                    by_id[patch.id] = dataclasses.replace(definition, id=patch.id, body=body)
                    changed.add(patch.id)
    replaced: dict[str, list[PathParts]] = {}
    for model_id, definition in list(by_id.items()):
        if has_variable(definition.body):
            by_id[model_id], replaced[model_id] = _substituted(definition, config.vars, problems)
            changed.add(model_id)
    # The base file's warnings about a definition the environment changed are stale
    # (a `${gw}/v1` is no URL until substituted): the merged result is checked afresh.
    stale = {
        warning
        for model_id in changed
        if model_id in original
        for warning in _warnings(original[model_id], api)
    }
    problems = [problem for problem in problems if problem not in stale]
    for model_id in sorted(changed):
        definition = by_id.get(model_id)
        if definition is not None and not _still_valid(
            definition, problems, api, replaced.get(model_id, [])
        ):
            del by_id[model_id]
    definitions = sorted(by_id.values(), key=lambda definition: definition.id)
    problems.extend(outside_owns(definitions, config.owns, config.file or "registry-sync.yaml"))
    return LoadResult(
        definitions=tuple(definitions),
        problems=tuple(sorted(set(problems))),
        notes=base.notes,
        files=files,
    )


# --- reading the overlay folder -----------------------------------------------------------


def _read_overlay(
    folder: Path, environment: str, problems: list[Problem]
) -> tuple[list[_Patch], dict[str, Origin], int]:
    if not folder.is_dir():
        raise ConfigError(
            f"overlay {folder} of environment {environment} is not a folder; create it, "
            "or fix overlay: in registry-sync.yaml"
        )
    files, unreadable = walk_model_files(folder, YAML_SUFFIXES)
    problems.extend(Problem(display_path(bad.path), 0, "", bad.reason) for bad in unreadable)
    patches: list[_Patch] = []
    excludes: dict[str, Origin] = {}
    seen: dict[str, _Patch] = {}
    for path in sorted(files):
        display = display_path(path)
        raw = read_model_file(path, folder)
        if isinstance(raw, Unreadable):
            problems.append(Problem(display, 0, "", raw.reason))
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(display, 0, "", "not UTF-8 text; save it as UTF-8"))
            continue
        from registry_sync.yamlio.source import parse_documents  # only with an overlay

        documents, error = parse_documents(text)
        if error is not None:
            problems.append(Problem(display, error.line, error.path, error.message))
        for document in documents:
            data = document.data
            if data is None:
                continue
            if isinstance(data, dict) and set(data) == {"exclude"}:
                _read_exclude(display, text, document, excludes, problems)
                continue
            model_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(data, dict) or not isinstance(model_id, str) or not model_id:
                problems.append(
                    Problem(
                        display,
                        document.line,
                        "",
                        "expected a mapping with an id (changes to that definition, or a "
                        "new one) or a mapping with only exclude: [ids]",
                    )
                )
                continue
            patch = _Patch(model_id, data, display, document.line, text, document)
            first = seen.get(model_id)
            if first is not None:
                problems.append(
                    _at(
                        patch,
                        ("id",),
                        f"id {model_id!r} again: first at {first.file}:"
                        f"{_line(first, ('id',))}; keep one",
                    )
                )
                continue
            seen[model_id] = patch
            patches.append(patch)
    return patches, excludes, len(files)


def _read_exclude(
    display: str,
    text: str,
    document: Document,
    excludes: dict[str, Origin],
    problems: list[Problem],
) -> None:
    from registry_sync.yamlio.source import SourceMap

    ids = document.data["exclude"]
    source = SourceMap(text)
    if not isinstance(ids, list):
        line = source.line_of(document.index, ("exclude",)) or document.line
        problems.append(Problem(display, line, "exclude", "expected a list of ids"))
        return
    for index, model_id in enumerate(ids):
        path: PathParts = ("exclude", index)
        if isinstance(model_id, str) and model_id:
            excludes[model_id] = (display, document.line, path)
        else:
            line = source.line_of(document.index, path) or document.line
            problems.append(Problem(display, line, format_path(path), "expected an id"))


# --- merging ------------------------------------------------------------------------------


def _merged(base: DesiredDefinition, patch: _Patch, problems: list[Problem]) -> DesiredDefinition:
    for key in SERVER_OWNED_FIELDS:
        if key in patch.data:
            problems.append(_at(patch, (key,), SERVER_OWNED_MESSAGE))
    for path in secret_paths(patch.data):
        problems.append(_at(patch, path, SECRET_MESSAGE))
    origins: dict[str, Origin] = dict(base.origins or {})
    changes = {key: value for key, value in patch.data.items() if key != "id"}
    body = _merge(base.body, changes, (), origins, patch)
    return dataclasses.replace(base, body=body, origins=origins)


def _merge(
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    path: PathParts,
    origins: dict[str, Origin],
    patch: _Patch,
) -> dict[str, Any]:
    result = dict(base)
    for key, value in changes.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value, here, origins, patch)
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = deep_copy(value)
        origins[format_path(here)] = (patch.file, patch.line, here)
    return result


def origin_of(definition: DesiredDefinition, path: str) -> Origin | None:
    """Where the value at ``path`` (or the value holding it) was set by an overlay."""
    origins = definition.origins or {}
    best: str | None = None
    for key in origins:
        covers = path == key or path.startswith((key + ".", key + "["))
        if covers and (best is None or len(key) > len(best)):
            best = key
    if best is not None:
        file, line, _ = origins[best]
        return file, line, _parts(path)
    # A change to a whole field whose parts an overlay set: the first such part.
    inside = sorted(key for key in origins if key.startswith((path + ".", path + "[")))
    return origins[inside[0]] if inside else None


def _parts(path: str) -> PathParts:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return tuple(parts)


# --- variables ----------------------------------------------------------------------------


def _substituted(
    definition: DesiredDefinition, variables: Mapping[str, str], problems: list[Problem]
) -> tuple[DesiredDefinition, list[PathParts]]:
    """``definition`` with its variables replaced, and the paths of the values that
    held one; an undefined name, or a value holding a control character, is an error
    at its line."""
    found = Substitution(variables)
    body = found.substitute(definition.body, ())
    for path, message in found.problems:
        file, line, where = _where(definition, path)
        problems.append(Problem(file, line_of(file, line, where), format_path(path), message))
    return dataclasses.replace(definition, body=body), found.paths


def _patches_substituted(
    patches: list[_Patch], variables: Mapping[str, str], problems: list[Problem]
) -> list[_Patch]:
    """The overlay's documents with the variables in their ids replaced; one whose
    id cannot be is an error at its line and is left out."""
    kept: list[_Patch] = []
    for patch in patches:
        if "${" not in patch.id:
            kept.append(patch)
            continue
        model_id, messages = substituted_id(patch.id, variables)
        problems.extend(_at(patch, ("id",), message) for message in messages)
        if not messages:
            data = {**patch.data, "id": model_id}
            kept.append(dataclasses.replace(patch, id=model_id, data=data))
    return kept


# --- checking what the merge made ---------------------------------------------------------


def _still_valid(
    definition: DesiredDefinition,
    problems: list[Problem],
    api: str,
    replaced: Sequence[PathParts] = (),
) -> bool:
    """Check what the merge made; a warning about a value a variable was replaced in
    (``replaced``) is an error: the value is not what the file shows."""
    valid = True
    body = without_nulls(definition.body)
    found: list[tuple[PathParts, str, Severity]] = [
        (path, SECRET_MESSAGE, "error") for path in secret_paths(body)
    ]
    for path, message, severity in [*found, *definition_errors(body, api)]:
        if severity == "warning" and any(path[: len(at)] == at for at in replaced):
            severity = "error"
            message = f"{message} (once its variables are replaced)"
        file, line, where = _where(definition, path)
        problems.append(
            Problem(file, line_of(file, line, where), format_path(path), message, severity)
        )
        valid = valid and severity != "error"
    return valid


def _warnings(definition: DesiredDefinition, api: str) -> set[Problem]:
    """The warnings the loader gave ``definition`` as its file declares it."""
    found: set[Problem] = set()
    for path, message, severity in definition_errors(without_nulls(definition.body), api):
        if severity == "warning":
            file, line, where = _where(definition, path)
            found.add(
                Problem(file, line_of(file, line, where), format_path(path), message, severity)
            )
    return found


def _where(definition: DesiredDefinition, path: PathParts) -> Origin:
    origin = origin_of(definition, format_path(path)) if definition.origins else None
    if origin is not None:
        return origin[0], origin[1], path
    return definition.file, definition.line, path


def _at(patch: _Patch, path: PathParts, message: str) -> Problem:
    return Problem(patch.file, _line(patch, path), format_path(path), message)


def _line(patch: _Patch, path: PathParts) -> int:
    return line_of(patch.file, patch.line, path)
