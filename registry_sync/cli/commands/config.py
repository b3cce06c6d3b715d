"""``registry-sync config``: the settings in effect, and where each came from."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import config_option, env_option, resolved
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK

__all__ = ["config"]


@click.command()
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for tools (registry-sync docs json).",
)
@env_option
def config(config_file: Path | None, output_format: str, environment: str | None) -> None:
    """Print the settings in effect and where each came from.

    One rule for every command: a flag or its environment variable, else
    registry-sync.yaml, else the built-in default. With api pinned to registry,
    activation choices are named in a warning: that API ignores them. Flags are per command, so this
    shows what the environment and registry-sync.yaml set. Exit 0, or 1 when
    registry-sync.yaml is missing (with --config) or invalid.
    """
    output = Output()

    def run() -> int:
        from registry_sync.render.settings import SETTINGS_FORMATS

        settings = resolved(config_file, environment)
        output.out(SETTINGS_FORMATS[output_format](settings), nl=False)
        # Only a pinned API is known here (a detected one needs the registry).
        ignored = None if settings.api is None else settings.activation_ignored(settings.api)
        if ignored is not None:
            output.err(f"warning: {ignored}")
        return EXIT_OK

    run_command(output, run)
