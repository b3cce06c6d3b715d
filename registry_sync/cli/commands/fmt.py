"""``registry-sync fmt``: rewrite model files in one canonical form, comments kept."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import config_option, models_dir_option, resolved
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK

__all__ = ["fmt"]


@click.command()
@models_dir_option
@config_option
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; list the files fmt would change and exit 1 if there are any "
    "(for CI and pre-commit).",
)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
def fmt(
    models_dir: Path | None, config_file: Path | None, check: bool, files: tuple[Path, ...]
) -> None:
    """Rewrite model files in one canonical form: FILES, or every model file below
    the models folder.

    Keys in the order of the API reference (id, provider, modelId, displayName, ...),
    block style, two-space indents with list items under their key, quotes only
    where the loader needs them; comments are kept. Each file is read back before it
    is written and must hold exactly what it held, or nothing is written.

    Exit 0 on success; with --check, 0 when every file is formatted and 1 when one
    is not. 1 on error.
    """
    output = Output()

    def run() -> int:
        from registry_sync.operations.fmt import FmtRequest, format_models

        settings = resolved(config_file)
        api = "catalog" if settings.api == "catalog" else "registry"
        outcome = format_models(FmtRequest(settings.models_dir, files, check=check, api=api))
        for shown in outcome.changed:
            output.out(f"would reformat {shown}" if check else f"reformatted {shown}")
        count = len(outcome.changed)
        if check and count:
            looked = f"{outcome.files} {'file' if outcome.files == 1 else 'files'}"
            output.err(
                f"{count} of {looked} not formatted: run 'registry-sync fmt' to rewrite them"
            )
            return EXIT_ERROR
        if not count:
            output.out(f"{outcome.files} {'file' if outcome.files == 1 else 'files'} formatted.")
        return EXIT_OK

    run_command(output, run)
