"""``registry-sync health``: probe the managed entries now and print their health."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK, EXIT_UNHEALTHY

if TYPE_CHECKING:
    from registry_sync.live.sources import LiveSource
    from registry_sync.settings.config import ProjectConfig

_PARALLELISM = 4


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
    help="text for people; json for tools (see docs/json.md); markdown for an issue or summary.",
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
        return run_health(
            settings.models_dir, live, targets, output_format, output, scope=settings.scope()
        )

    run_command(output, run)


def run_health(
    models_dir: Path,
    source: LiveSource,
    targets: tuple[str, ...],
    output_format: str,
    output: Output,
    *,
    scope: ProjectConfig | None = None,
) -> int:
    """Probe the managed entries (matching ``targets``, if any), as the environment of
    ``scope`` declares them; returns the exit code."""
    from registry_sync.apply.health import check_models
    from registry_sync.live.sources import load_desired, open_client
    from registry_sync.plan.targeting import matches
    from registry_sync.render.health import (
        health_counts,
        render_health_json,
        render_health_markdown,
        render_health_text,
    )

    desired = load_desired(models_dir, config=scope)
    ids = sorted(d.id for d in desired.definitions)
    if targets:
        ids = [i for i in ids if matches(i, targets)]
        if not ids:
            raise ConfigError(
                f"no id declared in {models_dir}/ matches --target {', '.join(targets)}; "
                "check the pattern (a glob, e.g. 'meetkai:*')"
            )
    with open_client(source, source.api_key(), connections=_PARALLELISM) as client:
        present = {entry.id for entry in client.list_models()}
        rows = check_models(client, ids, present, parallelism=_PARALLELISM)
    if output_format == "json":
        output.out(render_health_json(rows, source.describe()), nl=False)
    elif output_format == "markdown":
        output.out(render_health_markdown(rows), nl=False)
    else:
        output.out(render_health_text(rows), nl=False)
    counts = health_counts(rows)
    if counts["unavailable"]:
        return EXIT_UNHEALTHY
    return EXIT_ERROR if counts["unknown"] else EXIT_OK
