"""``export``: the live registry in; model files written below a folder, and what a
person must know about them (secrets left out, fields unknown to this version, files
that will not load as written) out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.bounds import DEFAULT_LIMITS, LoadLimits
from registry_sync.desired.loader import check_reroute_graph, check_reroute_targets, load_models
from registry_sync.errors import ConfigError, ExportError
from registry_sync.export.activation import (
    ConfigEdit,
    activation_choices,
    plan_config_edit,
    write_config_edit,
)
from registry_sync.export.files import Export, plan_export, write_export
from registry_sync.live.catalog import BYO
from registry_sync.live.entries import LiveEntry
from registry_sync.live.sources import LiveSource, fetch_live
from registry_sync.printable import printable
from registry_sync.schema.problems import Problem
from registry_sync.settings.config import find_config
from registry_sync.settings.defaults import CONFIG_FILE

__all__ = ["ExportOutcome", "ExportRequest", "WrittenFile", "export_models"]


@dataclass(frozen=True)
class ExportRequest:
    """Export ``source`` below ``out_dir``: the entries named in ``ids`` (default:
    every mutable one), read-only ones too with ``include_read_only``; ``force``
    overwrites existing files.

    From a catalog, the activation choices go to the project configuration:
    ``config_file`` (``--config``), else the one found from the current folder up to
    the repository root, else a new ``registry-sync.yaml`` in the current folder;
    ``environment`` is the environment selected (``--env``), if any. The files
    written are read back within ``limits``."""

    source: LiveSource
    out_dir: Path
    ids: tuple[str, ...] = ()
    include_read_only: bool = False
    force: bool = False
    config_file: Path | None = None
    environment: str | None = None
    limits: LoadLimits = DEFAULT_LIMITS


@dataclass(frozen=True)
class WrittenFile:
    """One file written, and what it could not hold. Names are safe to print."""

    path: Path
    id: str
    secrets: tuple[tuple[str, str], ...]  # (field, what to do) for each secret left out
    unknown_fields: tuple[str, ...]


@dataclass(frozen=True)
class ExportOutcome:
    """The files written, the read-only entries left out, and the problems found in
    the written files (``problems``) and in other files of the folder (``others``).
    ``api`` is the generation exported; from a catalog, ``config`` says what became
    of the project configuration."""

    files: list[WrittenFile]
    read_only: int
    read_only_skipped: int
    problems: list[Problem]
    others: int
    api: str = "registry"
    config: ConfigEdit | None = None
    left_out: str | None = None  # the warning naming live entries whose id is unsafe


def export_models(
    request: ExportRequest, *, on_progress: Callable[[int, int, int], None] | None = None
) -> ExportOutcome:
    """Fetch the registry, write its entries, and load what was written back as plan
    would: a file it would reject is reported, never rewritten. From a catalog, only
    byo definitions are written, and the activation choices that keep the first plan
    empty go to the project configuration (worked out, and checked, before any file
    is written)."""
    state = fetch_live(request.source, request.source.api_key())
    live = state.entries
    exportable = live if state.api == "registry" else _byo_only(live, request.ids)
    exported = plan_export(
        exportable, ids=request.ids, include_read_only=request.include_read_only, api=state.api
    )
    edit = None
    if state.api == "catalog":
        edit = _config_edit(request, live, {file.id for file in exported.files})
    if not exported.files:
        _write_config(edit)
        return ExportOutcome(
            [], 0, exported.read_only_skipped, [], 0, state.api, edit, state.warning()
        )
    written = write_export(exported, request.out_dir, force=request.force, on_progress=on_progress)
    _write_config(edit)
    problems, others = _unloadable(
        request, written, exported, {e.id: e.definition for e in live}, state.api
    )
    files = [
        WrittenFile(
            path=path,
            id=printable(file.id),
            secrets=tuple((secret.field, secret.fix) for secret in file.secrets),
            unknown_fields=tuple(printable(name) for name in file.unknown_fields),
        )
        for path, file in zip(written, exported.files, strict=True)
    ]
    read_only = sum(file.read_only for file in exported.files)
    return ExportOutcome(
        files,
        read_only,
        exported.read_only_skipped,
        problems,
        others,
        state.api,
        edit,
        state.warning(),
    )


def _write_config(edit: ConfigEdit | None) -> None:
    # After the model files: a refused export leaves the configuration as it was.
    if edit is not None:
        write_config_edit(edit)


def _byo_only(live: list[LiveEntry], ids: tuple[str, ...]) -> list[LiveEntry]:
    """The catalog's byo definitions: the platform's (serving, cluster) are never
    exported; ``--id`` naming one is an error saying how to serve it instead."""
    platform = {entry.id: entry for entry in live if entry.source != BYO}
    named = [model_id for model_id in dict.fromkeys(ids) if model_id in platform]
    if named:
        said = "; ".join(
            f"{printable(repr(model_id))} is defined by {_sources(platform[model_id])}, not byo"
            for model_id in named
        )
        raise ConfigError(
            f"export failed: {said}. Export writes the organisation's own (byo) "
            "definitions only; a platform model is served by listing it in "
            "activation.activate of registry-sync.yaml"
        )
    return [entry for entry in live if entry.source == BYO]


def _sources(entry: LiveEntry) -> str:
    sources = entry.source if entry.activation is None else " and ".join(entry.activation.sources)
    return printable(sources)


def _config_edit(request: ExportRequest, live: list[LiveEntry], exported: set[str]) -> ConfigEdit:
    """What the project configuration needs for the catalog ``live`` once ``exported``
    is declared, and how it gets it (see :func:`plan_config_edit`)."""
    path = request.config_file or find_config(Path.cwd()) or Path.cwd() / CONFIG_FILE
    names = set(request.ids) if request.ids else None
    choices = activation_choices(live, exported, names)
    existing = None
    if path.is_file():
        try:
            existing = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"export failed: cannot read {path.as_posix()}: {exc}") from exc
    return plan_config_edit(
        path,
        existing,
        choices,
        exported=exported,
        names=names,
        environment=request.environment,
    )


def _unloadable(
    request: ExportRequest,
    written: list[Path],
    exported: Export,
    live: Mapping[str, Mapping[str, Any]],
    api: str,
) -> tuple[list[Problem], int]:
    """The errors plan would find in the written files (e.g. fields a newer server
    added), by the very checks plan runs, and how many more the folder's other files
    have. The files keep what the registry holds: a reroute cycle or a missing target
    the registry already holds is a warning there, as in plan, and not counted."""
    # The files just written are checked as the mappings their text was parsed back
    # as before it was written (plan_export refuses a text that reads back otherwise).
    known: dict[Path, dict[str, Any]] = {
        path.absolute(): file.definition
        for path, file in zip(written, exported.files, strict=True)
        if file.definition is not None
    }
    result = load_models(request.out_dir, written=known, api=api, limits=request.limits)
    # Warnings (e.g. a {url, method} health check kept as the registry holds it) are
    # validate's to show: the files load.
    references = [
        *check_reroute_targets(result.definitions, set(live), live),
        *check_reroute_graph(result.definitions, live),
    ]
    found = [*result.errors, *(p for p in references if p.severity == "error")]
    mine = {path.resolve() for path in written}
    problems = [p for p in found if Path(p.file).resolve() in mine]
    return problems, len(found) - len(problems)
