"""``registry-sync health``: probe the managed entries now and print their health."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import (
    SourceFlags,
    api_source_options,
    config_option,
    env_option,
    live_registry,
    models_dir_option,
    resolved,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.cli.progress import ProgressLine, wants_progress

__all__ = ["health"]


@click.command()
@models_dir_option
@api_source_options
@config_option
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="PATTERN",
    help="Probe only the declared ids matching this glob (e.g. 'meetkai:*'); repeat for more.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people; json for tools (registry-sync docs json); markdown for an issue "
    "or summary.",
)
@env_option
def health(
    models_dir: Path | None,
    source: SourceFlags,
    config_file: Path | None,
    targets: tuple[str, ...],
    output_format: str,
    environment: str | None,
) -> None:
    """Probe the entries models/ declares through the registry's health endpoint.

    Prints id, available, last check and error for each. Exit 0 when every one
    probed is available, 4 when any is unavailable, 1 on error (a probe that
    failed, or an entry not in the registry, counts as an error when none is
    unavailable).
    """
    output = Output()

    def run() -> int:
        settings = resolved(config_file, environment)
        live = live_registry(settings, source, output)
        if environment is not None:
            output.err(f"Environment {environment} ({live.describe()})")
        from registry_sync.operations.health import (
            HealthRequest,
            health_exit_code,
            probe_health,
        )
        from registry_sync.render.health import HEALTH_FORMATS

        request = HealthRequest(settings.models_dir, live, targets, settings.scope())
        with ProgressLine("Probing", "probes", enabled=wants_progress(output_format)) as line:
            rows = probe_health(request, on_progress=line.update)
        output.out(HEALTH_FORMATS[output_format](rows, live.describe()), nl=False)
        return health_exit_code(rows)

    run_command(output, run)
