"""``registry-sync validate``: check the model files, no network."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import (
    config_option,
    env_option,
    given,
    models_dir_option,
    strict_option,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.config import ProjectConfig, project_config
from registry_sync.loader import check_reroute_graph, load_models
from registry_sync.overlay import effective_definitions
from registry_sync.pipeline import EXIT_OK, check_problems


@click.command()
@models_dir_option
@strict_option
@config_option
@env_option
def validate(
    models_dir: Path, strict: bool, config_file: Path | None, environment: str | None
) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    With --env, checks the definitions that environment gets (its overlay, vars
    and owns).
    """
    output = Output()

    def run() -> int:
        if environment is None:
            return run_validate(models_dir, output, strict=strict)
        config = project_config(config_file)
        folder = models_dir
        if config.models_dir is not None and not given("models_dir"):
            folder = config.models_dir
        return run_validate(folder, output, strict=strict, config=config.select(environment))

    run_command(output, run)


def run_validate(
    models_dir: Path,
    output: Output,
    *,
    strict: bool = False,
    config: ProjectConfig | None = None,
) -> int:
    """Validate models/ (as the environment ``config`` selects sees it, if given),
    print notes then the verdict; returns the exit code."""
    result = load_models(models_dir)
    environment = None if config is None else config.environment
    if config is not None:
        result = effective_definitions(result, config)
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    graph = check_reroute_graph(result.definitions)
    check_problems(sorted([*result.problems, *graph]), strict=strict, warn=output.err)
    count = len(result.definitions)
    where = "" if environment is None else f"Environment {environment}: "
    output.out(
        f"{where}{count} model {'definition' if count == 1 else 'definitions'} in "
        f"{result.files} {'file' if result.files == 1 else 'files'}: valid."
    )
    return EXIT_OK
