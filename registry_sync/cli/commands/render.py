"""``registry-sync render --env NAME``: the definitions an environment gets, no network."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import config_option, models_dir_option, resolved
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK

__all__ = ["render"]


@click.command()
@models_dir_option
@config_option
@click.option(
    "--env",
    "environment",
    envvar="MKA1_ENV",
    required=True,
    metavar="NAME",
    help="The environment of registry-sync.yaml whose definitions to print [env: MKA1_ENV].",
)
def render(models_dir: Path | None, config_file: Path | None, environment: str) -> None:
    """Print the definitions an environment gets (models/ with its overlay and vars
    applied, its exclusions left out) as YAML documents, each headed by the files
    that set it. Exit 0, or 1 when a definition is invalid. No network access."""
    output = Output()

    def run() -> int:
        # Imported here, like every command's work: --help must not pay for it.
        from registry_sync.operations.environment import environment_definitions
        from registry_sync.render.definitions import render_definitions

        settings = resolved(config_file, environment)
        definitions = environment_definitions(settings.models_dir, settings.scope(), output.err)
        output.out(render_definitions(environment, definitions), nl=False)
        return EXIT_OK

    run_command(output, run)
