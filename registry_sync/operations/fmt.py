"""``fmt``: model files in; each rewritten in the one canonical form (or, checking,
named when it is not in it) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry_sync.desired.loader import YAML_SUFFIXES
from registry_sync.errors import ConfigError
from registry_sync.export.files import in_definition_order
from registry_sync.schema.generations import DEFAULT_API
from registry_sync.yamlio.files import walk_model_files
from registry_sync.yamlio.roundtrip import EditedFile, check_reads_back, open_for_edit, write_edited

__all__ = ["FmtOutcome", "FmtRequest", "format_models"]


@dataclass(frozen=True)
class FmtRequest:
    """Format every model file below ``models_dir``, or only ``files`` when given;
    with ``check`` write nothing. ``api`` is the API generation whose Definition
    gives the key order."""

    models_dir: Path
    files: tuple[Path, ...] = ()
    check: bool = False
    api: str = DEFAULT_API


@dataclass(frozen=True)
class FmtOutcome:
    """The files not in canonical form (rewritten, unless checking), and how many
    files were looked at."""

    changed: tuple[str, ...]
    files: int
    check: bool


def format_models(request: FmtRequest) -> FmtOutcome:
    """Put every model file in the canonical form: keys in the API reference's order,
    block style, quotes only where the loader needs them, comments kept. Each new
    text must load as exactly what the file held before anything is written (see
    :func:`~registry_sync.yamlio.roundtrip.write_edited`); a file either reader
    cannot read stops the run, naming it."""
    paths = list(request.files) or _model_files(request.models_dir)
    changed: list[EditedFile] = []
    for path in sorted(paths):
        file = open_for_edit(path)
        for index, data in enumerate(file.intended):
            # A definition, or an overlay's part of one; nothing else (exclude: lists).
            if isinstance(data, dict) and "id" in data:
                file.make_canonical(index, in_definition_order(data, request.api))
        text = file.render()
        if text != file.text:
            check_reads_back(file, text)
            changed.append(file)
    if not request.check:
        write_edited(changed)
    return FmtOutcome(tuple(file.shown for file in changed), len(paths), request.check)


def _model_files(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        raise ConfigError(
            f"fmt failed: {models_dir} is not a folder; pass --models-dir (or set "
            "models_dir in registry-sync.yaml) to the folder of model files"
        )
    paths, unreadable = walk_model_files(models_dir, YAML_SUFFIXES)
    if unreadable:
        raise ConfigError(f"fmt failed: {unreadable[0].path}: {unreadable[0].reason}")
    return paths
