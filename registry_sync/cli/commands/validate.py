"""``registry-sync validate``: check the model files, no network."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import cache_option, models_dir_option, strict_option
from registry_sync.cli.output import Output, run_command
from registry_sync.loader import check_reroute_graph, load_models
from registry_sync.parsecache import ParseCache
from registry_sync.pipeline import EXIT_OK, check_problems


@click.command()
@models_dir_option
@strict_option
@cache_option
def validate(models_dir: Path, strict: bool, cache: ParseCache | None) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    """
    output = Output()
    run_command(output, lambda: run_validate(models_dir, output, strict=strict, cache=cache))


def run_validate(
    models_dir: Path, output: Output, *, strict: bool = False, cache: ParseCache | None = None
) -> int:
    """Validate models/, print notes then the verdict; returns the exit code."""
    result = load_models(models_dir, cache)
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    graph = check_reroute_graph(result.definitions)
    check_problems(sorted([*result.problems, *graph]), strict=strict, warn=output.err)
    count = len(result.definitions)
    output.out(
        f"{count} model {'definition' if count == 1 else 'definitions'} in "
        f"{result.files} {'file' if result.files == 1 else 'files'}: valid."
    )
    return EXIT_OK
