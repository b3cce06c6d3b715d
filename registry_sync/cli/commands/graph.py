"""``registry-sync graph``: the reroute graph, as Mermaid or Graphviz."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from registry_sync.cli.options import (
    SourceFlags,
    config_option,
    live_registry,
    live_source_options,
    models_dir_option,
    resolved,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK

if TYPE_CHECKING:
    from registry_sync.live.sources import LiveSource


@click.command()
@models_dir_option
@live_source_options
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="mermaid (a flowchart, e.g. for Markdown) or dot (Graphviz).",
)
@click.option(
    "--files-only",
    is_flag=True,
    help="Draw only what models/ declares; do not read the registry.",
)
def graph(
    models_dir: Path | None,
    source: SourceFlags,
    config_file: Path | None,
    output_format: str,
    files_only: bool,
) -> None:
    """Print the reroute graph: which model reroutes to which, and on what trigger.

    The graph of models/ laid over the live registry (the registry's own entries
    stand where no file declares them), as apply without --prune would leave it.
    Only models with a reroute rule, or that one targets, are drawn.

    Exit 0 on success, 1 on error.
    """
    output = Output()

    def run() -> int:
        settings = resolved(config_file)
        live = live_registry(settings, source, output)
        return run_graph(
            settings.models_dir, live, output_format, files_only=files_only, output=output
        )

    run_command(output, run)


def run_graph(
    models_dir: Path,
    source: LiveSource,
    output_format: str,
    *,
    files_only: bool,
    output: Output,
) -> int:
    """Print the reroute graph of models/ over the live registry; returns the exit code."""
    from registry_sync.live.sources import fetch_live, load_desired
    from registry_sync.render.graph import render_dot, render_mermaid
    from registry_sync.schema.reroutes import graph_edges

    desired = load_desired(models_dir)
    definitions: dict[str, Mapping[str, Any]] = {}
    if not files_only:
        live = fetch_live(source, source.api_key())
        definitions.update((entry.id, entry.definition) for entry in live)
    definitions.update((d.id, d.body) for d in desired.definitions)
    edges = graph_edges(definitions)
    output.out(render_dot(edges) if output_format == "dot" else render_mermaid(edges), nl=False)
    return EXIT_OK
