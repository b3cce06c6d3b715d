"""``registry-sync render --env NAME``: the definitions an environment gets, no network."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import config_option, models_dir_option, resolved
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK


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
        import yaml

        from registry_sync.desired.checks import check_problems
        from registry_sync.desired.loader import load_models
        from registry_sync.desired.overlay import effective_definitions

        settings = resolved(config_file, environment)
        result = effective_definitions(load_models(settings.models_dir), settings.scope())
        check_problems(result.problems, strict=False, warn=output.err)
        count = len(result.definitions)
        output.out(
            f"# Environment {environment}: {count} {'definition' if count == 1 else 'definitions'}"
        )
        for definition in result.definitions:
            overlays = sorted({file for file, _, _ in (definition.origins or {}).values()})
            sources = ", ".join([f"{definition.file}:{definition.line}", *overlays])
            output.out(f"---\n# {definition.id} from {sources}")
            output.out(
                yaml.safe_dump(definition.body, sort_keys=False, allow_unicode=True, width=100),
                nl=False,
            )
        return EXIT_OK

    run_command(output, run)
