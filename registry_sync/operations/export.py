"""``export``: the live registry in; model files written below a folder, and what a
person must know about them (secrets left out, fields unknown to this version, files
that will not load as written) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.loader import check_reroute_targets, load_models
from registry_sync.export.files import Export, plan_export, printable, write_export
from registry_sync.live.sources import LiveSource, fetch_live
from registry_sync.schema.problems import Problem

__all__ = ["ExportOutcome", "ExportRequest", "WrittenFile", "export_models"]


@dataclass(frozen=True)
class ExportRequest:
    """Export ``source`` below ``out_dir``: the entries named in ``ids`` (default:
    every mutable one), read-only ones too with ``include_read_only``; ``force``
    overwrites existing files."""

    source: LiveSource
    out_dir: Path
    ids: tuple[str, ...] = ()
    include_read_only: bool = False
    force: bool = False


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
    the written files (``problems``) and in other files of the folder (``others``)."""

    files: list[WrittenFile]
    read_only: int
    read_only_skipped: int
    problems: list[Problem]
    others: int


def export_models(request: ExportRequest) -> ExportOutcome:
    """Fetch the registry, write its entries, and load what was written back as plan
    would: a file it would reject is reported, never rewritten."""
    live = fetch_live(request.source, request.source.api_key()).entries
    exported = plan_export(live, ids=request.ids, include_read_only=request.include_read_only)
    if not exported.files:
        return ExportOutcome([], 0, exported.read_only_skipped, [], 0)
    written = write_export(exported, request.out_dir, force=request.force)
    problems, others = _unloadable(request.out_dir, written, exported, {e.id for e in live})
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
    return ExportOutcome(files, read_only, exported.read_only_skipped, problems, others)


def _unloadable(
    out_dir: Path, written: list[Path], exported: Export, live_ids: set[str]
) -> tuple[list[Problem], int]:
    """The problems plan would find in the written files (e.g. fields a newer server
    added, a reroute to a model the registry lacks), and how many more the folder's
    other files have. The files keep what the registry holds."""
    # The files just written are checked as the mappings they load as, unparsed.
    known: dict[Path, dict[str, Any]] = {
        path.absolute(): file.definition
        for path, file in zip(written, exported.files, strict=True)
        if file.definition is not None
    }
    result = load_models(out_dir, written=known)
    # Warnings (e.g. a {url, method} health check kept as the registry holds it) are
    # validate's to show: the files load.
    found = [*result.errors, *check_reroute_targets(result.definitions, live_ids)]
    mine = {path.resolve() for path in written}
    problems = [p for p in found if Path(p.file).resolve() in mine]
    return problems, len(found) - len(problems)
