"""``registry-sync validate``: check the model files, no network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    cache_option,
    config_option,
    env_option,
    models_dir_option,
    resolved,
    strict_option,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from registry_sync.desired.parsecache import ParseCache
    from registry_sync.settings.config import ProjectConfig


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
@env_option
@cache_option
def validate(
    models_dir: Path | None,
    config_file: Path | None,
    strict: bool,
    output_format: str,
    environment: str | None,
    cache: ParseCache | None,
) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    With --env, checks the definitions that environment gets (its overlay, vars).
    """
    output = Output()

    def run() -> int:
        settings = resolved(config_file, environment)
        return run_validate(
            settings.models_dir,
            output,
            strict=strict,
            output_format=output_format,
            scope=settings.scope(),
            cache=cache,
        )

    run_command(output, run)


def run_validate(
    models_dir: Path,
    output: Output,
    *,
    strict: bool = False,
    output_format: str = "text",
    scope: ProjectConfig | None = None,
    cache: ParseCache | None = None,
) -> int:
    """Validate models/ (through the parse ``cache``; as the environment and owns of
    ``scope`` see it, if given), print notes then the verdict; returns the exit code."""
    # Imported here, like every command's work: --help must not pay for it.
    from registry_sync.desired.checks import check_problems
    from registry_sync.desired.loader import check_reroute_graph, load_models
    from registry_sync.desired.overlay import effective_definitions
    from registry_sync.errors import InvalidModels
    from registry_sync.render.problems import (
        count_phrase,
        render_problems_github,
        render_problems_json,
    )

    result = load_models(models_dir, cache)
    if scope is not None:
        # The definitions the environment gets, and owns: checked.
        result = effective_definitions(result, scope)
    environment = None if scope is None else scope.environment
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    problems = sorted([*result.problems, *check_reroute_graph(result.definitions)])
    counted = count_phrase(len(result.definitions), result.files)
    if output_format == "text":
        check_problems(problems, strict=strict, warn=output.err)
        where = "" if environment is None else f"Environment {environment}: "
        output.out(f"{where}{counted}: valid.")
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
