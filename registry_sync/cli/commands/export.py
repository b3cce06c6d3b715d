"""``registry-sync export``: write the live registry out as model files."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    SourceFlags,
    config_option,
    env_option,
    live_registry,
    live_source_options,
    resolved,
    setting_option,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.cli.progress import ProgressLine, wants_progress
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_OK
from registry_sync.settings.defaults import READ_ONLY_DIR

if TYPE_CHECKING:
    from registry_sync.operations.export import ExportOutcome, ExportRequest
    from registry_sync.settings.resolve import Settings

__all__ = ["export", "run_export"]


@click.command()
@live_source_options
@setting_option(
    "--out-dir",
    setting="models_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the model files to.",
)
@config_option
@click.option(
    "--id",
    "ids",
    multiple=True,
    metavar="ID",
    help="Export only this registry id; repeat for more. Default: every mutable entry.",
)
@click.option(
    "--include-read-only",
    is_flag=True,
    help=f"Also export immutable entries, into <out-dir>/{READ_ONLY_DIR}/: they cannot be "
    "changed through the API, and plan only checks that they match.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite existing files. Without it an existing file stops the export before "
    "anything is written.",
)
@click.option(
    "--merge",
    is_flag=True,
    help="Merge into a folder started by hand: edit the files that declare an entry in "
    "place and write the others as new files (pull --include-new).",
)
@env_option
def export(
    source: SourceFlags,
    out_dir: Path | None,
    config_file: Path | None,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
    merge: bool,
    environment: str | None,
) -> None:
    """Write the live registry out as model files, one YAML file per entry.

    namespace:name goes to <out-dir>/namespace/name.yaml. Secrets found in the
    registry are never written: the file gets a placeholder and the command warns.
    Afterwards plan against the same registry reports no changes, unless a secret
    had to be left out.

    From a catalog (the catalog and activation API), only byo definitions are
    written, and registry-sync.yaml gets api: catalog and the activation choices
    (byo definitions not served: activation.inactive; names served from serving or
    cluster: activation.activate); it is created in the current folder if none is
    found.

    With --merge, into a folder started by hand: the files that declare an entry are
    edited in place, comments kept, and the other entries are written as new files
    (the same as pull --include-new; registry-sync.yaml is not touched).

    Exit 0 on success, 1 on error.
    """
    output = Output()

    def run() -> int:
        from registry_sync.operations.export import ExportRequest
        from registry_sync.operations.inputs import load_limits

        settings = resolved(config_file, environment)
        if merge:
            return _merge(settings, source, output, ids, force or include_read_only)
        live = live_registry(settings, source, output)
        if environment is not None:
            output.err(f"Environment {environment} ({live.describe()})")
        request = ExportRequest(
            live,
            settings.models_dir,
            ids,
            include_read_only,
            force,
            config_file=config_file,
            environment=environment,
            limits=load_limits(settings),
        )
        return run_export(request, output)

    run_command(output, run)


def _merge(
    settings: Settings,
    source: SourceFlags,
    output: Output,
    ids: tuple[str, ...],
    refused: bool,
) -> int:
    """``export --merge``: ``pull --include-new`` into the --out-dir folder."""
    from registry_sync.cli.commands.pull import run_pull

    if refused:
        raise ConfigError(
            "--merge edits files in place: it takes no --force, and no --include-read-only "
            "(read-only entries are never written into files)"
        )
    return run_pull(output, settings, source, ids, dry_run=False, include_new=True)


def run_export(request: ExportRequest, output: Output) -> int:
    """Export, and say what was written and what to look at; returns the exit code."""
    from registry_sync.operations.export import export_models

    with ProgressLine("Writing", "files", enabled=wants_progress()) as line:
        exported = export_models(request, on_progress=line.update)
    if exported.left_out is not None:
        output.err(exported.left_out)
    if not exported.files:
        if exported.api == "catalog":
            output.out(
                "Nothing to export: the catalog has no byo definitions of api origin."
                f"{_skipped(exported)}"
            )
        else:
            output.out(
                f"Nothing to export: the registry has no mutable entries.{_skipped(exported)}"
            )
        _report_config(exported, output)
        return EXIT_OK
    for file in exported.files:
        output.out(f"wrote {file.path.as_posix()}")
        for field, fix in file.secrets:
            output.err(
                f"warning: {file.id}: {field} holds a secret; not written "
                f"to {file.path.as_posix()} ({fix})"
            )
        if file.unknown_fields:
            names = ", ".join(file.unknown_fields)
            output.err(
                f"warning: {file.id}: {names} left out of {file.path.as_posix()}: "
                "unknown to this version of registry-sync, which neither writes nor compares them"
            )
    out_dir = request.out_dir
    where = f" ({exported.read_only} read-only, in {READ_ONLY_DIR}/)" if exported.read_only else ""
    count = len(exported.files)
    output.out(
        f"Exported {count} {'model' if count == 1 else 'models'} to "
        f"{out_dir.as_posix()}/{where}.{_skipped(exported)}"
    )
    _warn_unloadable(out_dir, exported, output)
    _report_config(exported, output)
    return EXIT_OK


def _report_config(exported: ExportOutcome, output: Output) -> None:
    """Say what became of registry-sync.yaml (a catalog export only)."""
    edit = exported.config
    if edit is None:
        return
    where = _shown(edit.path)
    choices = edit.choices
    said = []
    if choices.inactive:
        said.append(f"{len(choices.inactive)} inactive")
    if choices.activate:
        said.append(f"{len(choices.activate)} to activate")
    detail = f" ({', '.join(said)})" if said else ""
    for name in choices.unlisted:
        output.err(
            f"warning: {name} is served from a platform source, but is not one registry "
            "name activation.activate can hold; it was left out"
        )
    for note in edit.notes:
        output.err(f"warning: {note}")
    if edit.created:
        keys = "api: catalog" + (f" and activation{detail}" if "activation" in edit.added else "")
        output.out(f"wrote {where}: {keys}")
    elif edit.added:
        keys = " and ".join(
            "api: catalog" if key == "api" else f"activation{detail}" for key in edit.added
        )
        output.out(f"added {keys} to {where}")
    elif edit.warning is not None:
        block = "\n".join(f"  {line}" for line in edit.block)
        output.err(f"warning: {edit.warning}:\n{block}")
    else:
        output.out(f"{where} unchanged: it already says what the registry serves{detail}")


def _shown(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _skipped(exported: ExportOutcome) -> str:
    count = exported.read_only_skipped
    if not count:
        return ""
    noun = "entry" if count == 1 else "entries"
    return f" {count} read-only {noun} not exported (--include-read-only exports them)."


def _warn_unloadable(out_dir: Path, exported: ExportOutcome, output: Output) -> None:
    """Warn about written files plan would reject; the files keep what the registry
    holds, and validate and plan will report them."""
    problems = exported.problems
    for problem in problems:
        output.err(f"warning: {problem}")
    folder = shlex.quote(out_dir.as_posix())
    if problems:
        files = len({Path(p.file).resolve() for p in problems})
        output.err(
            f"warning: {files} exported {'file' if files == 1 else 'files'} in "
            f"{out_dir.as_posix()}/ will not load until fixed (a placeholder to replace, or "
            "what the registry holds and this version of registry-sync does not accept): "
            f"'registry-sync validate --models-dir {folder}' lists the problems, and plan "
            f"and apply with --models-dir {folder} refuse to run while they remain"
        )
    others = exported.others
    if others:
        output.err(
            f"note: {others} more {'problem' if others == 1 else 'problems'} in other files "
            f"below {out_dir.as_posix()}/; 'registry-sync validate --models-dir {folder}' "
            "lists them"
        )
