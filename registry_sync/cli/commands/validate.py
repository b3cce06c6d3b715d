"""``registry-sync validate``: check the model files, no network."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import config_option, models_dir_option, resolved, strict_option
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK


@click.command()
@models_dir_option
@config_option
@strict_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people; json lists every problem (file, line, column, path, message, "
    "severity); github prints workflow-command annotations (::error file=...,line=...::).",
)
def validate(
    models_dir: Path | None, config_file: Path | None, strict: bool, output_format: str
) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    """
    output = Output()
    run_command(
        output,
        lambda: run_validate(
            resolved(config_file).models_dir, output, strict=strict, output_format=output_format
        ),
    )


def run_validate(
    models_dir: Path, output: Output, *, strict: bool = False, output_format: str = "text"
) -> int:
    """Validate models/, print notes then the verdict; returns the exit code."""
    # Imported here, like every command's work: --help must not pay for it.
    from registry_sync.checks import check_problems
    from registry_sync.errors import InvalidModels
    from registry_sync.loader import check_reroute_graph, load_models
    from registry_sync.render.problems import (
        count_phrase,
        render_problems_github,
        render_problems_json,
    )

    result = load_models(models_dir)
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    problems = sorted([*result.problems, *check_reroute_graph(result.definitions)])
    counted = count_phrase(len(result.definitions), result.files)
    if output_format == "text":
        check_problems(problems, strict=strict, warn=output.err)
        output.out(f"{counted}: valid.")
        return EXIT_OK
    failed = any(p.severity == "error" for p in problems) or (strict and bool(problems))
    if output_format == "json":
        output.out(
            render_problems_json(
                problems, definitions=len(result.definitions), files=result.files, valid=not failed
            ),
            nl=False,
        )
        return EXIT_ERROR if failed else EXIT_OK
    output.out(render_problems_github(problems), nl=False)
    if failed:
        output.err(f"error: {InvalidModels(problems)}")
        return EXIT_ERROR
    output.err(f"{counted}: valid.")
    return EXIT_OK
