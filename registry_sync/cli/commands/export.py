"""``registry-sync export``: write the live registry out as model files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from registry_sync.cli.options import config_option, given_names, live_source_options
from registry_sync.cli.output import Output, run_command, warn_insecure
from registry_sync.export import READ_ONLY_DIR, Export, plan_export, printable, write_export
from registry_sync.loader import check_reroute_targets, load_models
from registry_sync.pipeline import EXIT_OK, configured
from registry_sync.state import API_KEY_VARIABLE, LiveSource, fetch_live


@click.command()
@live_source_options
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("models"),
    show_default=True,
    help="Folder to write the model files to (default: models_dir in registry-sync.yaml, "
    "else models).",
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
def export(
    source: LiveSource,
    out_dir: Path,
    config_file: Path | None,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
) -> None:
    """Write the live registry out as model files, one YAML file per entry.

    namespace:name goes to <out-dir>/namespace/name.yaml. Secrets found in the
    registry are never written: the file gets a placeholder and the command warns.
    Afterwards plan against the same registry reports no changes, unless a secret
    had to be left out.

    Exit 0 on success, 1 on error.
    """
    output = Output()

    def run() -> int:
        settings = configured(
            config_file, out_dir, source, False, given_names(), models_dir_param="out_dir"
        )
        warn_insecure(settings.source, output)
        return run_export(
            settings.source,
            settings.models_dir,
            ids=ids,
            include_read_only=include_read_only,
            force=force,
            output=output,
        )

    run_command(output, run)


def run_export(
    source: LiveSource,
    out_dir: Path,
    *,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
    output: Output,
) -> int:
    """Fetch the registry, write its entries below ``out_dir``; returns the exit code."""
    live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
    exported = plan_export(live, ids=ids, include_read_only=include_read_only)
    if not exported.files:
        output.out(f"Nothing to export: the registry has no mutable entries.{_skipped(exported)}")
        return EXIT_OK
    written = write_export(exported, out_dir, force=force)
    for path, file in zip(written, exported.files, strict=True):
        output.out(f"wrote {path.as_posix()}")
        for secret in file.secrets:
            output.err(
                f"warning: {printable(file.id)}: {secret.field} holds a secret; not written "
                f"to {path.as_posix()} ({secret.fix})"
            )
        if file.unknown_fields:
            names = ", ".join(printable(name) for name in file.unknown_fields)
            output.err(
                f"warning: {printable(file.id)}: {names} left out of {path.as_posix()}: "
                "unknown to this version of registry-sync, which neither writes nor compares them"
            )
    read_only = sum(file.read_only for file in exported.files)
    where = f" ({read_only} read-only, in {READ_ONLY_DIR}/)" if read_only else ""
    count = len(written)
    output.out(
        f"Exported {count} {'model' if count == 1 else 'models'} to "
        f"{out_dir.as_posix()}/{where}.{_skipped(exported)}"
    )
    known = {
        path.absolute(): file.definition
        for path, file in zip(written, exported.files, strict=True)
        if file.definition is not None
    }
    _warn_unloadable(out_dir, written, {entry.id for entry in live}, output, known)
    return EXIT_OK


def _skipped(exported: Export) -> str:
    count = exported.read_only_skipped
    if not count:
        return ""
    noun = "entry" if count == 1 else "entries"
    return f" {count} read-only {noun} not exported (--include-read-only exports them)."


def _warn_unloadable(
    out_dir: Path,
    written: list[Path],
    live_ids: set[str],
    output: Output,
    known: dict[Path, dict[str, Any]],
) -> None:
    """Warn about written files plan would reject, e.g. fields a newer server added or
    a reroute to a model the registry lacks.

    The file keeps what the registry holds; validate and plan will report it.
    """
    # The files just written are checked as the mappings they load as, unparsed.
    result = load_models(out_dir, written=known)
    # Warnings (e.g. a {url, method} health check kept as the registry holds it) are
    # validate's to show: the files load.
    found = [*result.errors, *check_reroute_targets(result.definitions, live_ids)]
    mine = {path.resolve() for path in written}
    problems = [p for p in found if Path(p.file).resolve() in mine]
    for problem in problems:
        output.err(f"warning: {problem}")
    if problems:
        output.err(
            "warning: validate and plan will reject the exported files above until they "
            "are fixed: the registry holds what this version of registry-sync does not accept"
        )
    others = len(found) - len(problems)
    if others:
        output.err(
            f"note: {others} more {'problem' if others == 1 else 'problems'} in other files "
            f"below {out_dir.as_posix()}/; run validate to list them"
        )
