"""``registry-sync graph``: the reroute graph, as Mermaid or Graphviz."""

from __future__ import annotations

from pathlib import Path

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

__all__ = ["graph"]


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
        from registry_sync.operations.graph import GraphRequest, reroute_edges
        from registry_sync.operations.inputs import load_limits
        from registry_sync.render.graph import GRAPH_FORMATS

        request = GraphRequest(settings.models_dir, live, files_only, load_limits(settings))
        edges = reroute_edges(request)
        output.out(GRAPH_FORMATS[output_format](edges), nl=False)
        return EXIT_OK

    run_command(output, run)
