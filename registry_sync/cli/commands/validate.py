"""``registry-sync validate``: check the model files, no network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    api_option,
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
    from registry_sync.operations.validate import ValidateRequest

__all__ = ["run_validate", "validate"]


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
@api_option(
    "Check the files for this API generation [env: MKA1_API]: registry (the registry API) "
    "or catalog (the catalog and activation API). Unpinned, they are checked for the "
    "registry API, with a note when they are valid only for the catalog's."
)
@env_option
@cache_option
def validate(
    models_dir: Path | None,
    config_file: Path | None,
    strict: bool,
    output_format: str,
    api: str | None,
    environment: str | None,
    use_cache: bool,
) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    With --env, checks the definitions that environment gets (its overlay, vars).
    The files are checked for the API generation pinned (--api, MKA1_API, api: in
    registry-sync.yaml), else for the registry API.
    """
    output = Output()

    def run() -> int:
        from registry_sync.operations.inputs import parse_cache
        from registry_sync.operations.validate import ValidateRequest

        settings = resolved(config_file, environment)
        request = ValidateRequest(
            settings.models_dir,
            settings.scope(),
            strict,
            parse_cache(use_cache, output.err),
            settings.api,
        )
        return run_validate(request, output, output_format)

    run_command(output, run)


def run_validate(request: ValidateRequest, output: Output, output_format: str) -> int:
    """Validate, print notes then the verdict; returns the exit code."""
    # Imported here, like every command's work: --help must not pay for it.
    from registry_sync.errors import InvalidModels
    from registry_sync.operations.validate import validate_models
    from registry_sync.render.problems import (
        count_phrase,
        render_problems_github,
        render_problems_json,
    )

    result = validate_models(request)
    for note in result.notes:
        output.err(f"note: {note}")
    counted = count_phrase(result.definitions, result.files)
    if output_format == "text":
        result.check(warn=output.err)
        where = "" if result.environment is None else f"Environment {result.environment}: "
        output.out(f"{where}{counted}: valid.")
        return EXIT_OK
    if output_format == "json":
        output.out(
            render_problems_json(
                result.problems,
                definitions=result.definitions,
                files=result.files,
                valid=not result.failed,
            ),
            nl=False,
        )
        return EXIT_ERROR if result.failed else EXIT_OK
    output.out(render_problems_github(result.problems), nl=False)
    if result.failed:
        output.err(f"error: {InvalidModels(result.problems)}")
        return EXIT_ERROR
    output.err(f"{counted}: valid.")
    return EXIT_OK
