"""``graph``: models/ laid over the live registry in; the reroute edges out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.load import load_desired
from registry_sync.live.sources import LiveSource, fetch_live
from registry_sync.schema.reroutes import RerouteEdge, graph_edges

__all__ = ["GraphRequest", "reroute_edges"]


@dataclass(frozen=True)
class GraphRequest:
    """Draw ``models_dir`` over the registry ``source`` (or, ``files_only``, alone)."""

    models_dir: Path
    source: LiveSource
    files_only: bool = False


def reroute_edges(request: GraphRequest) -> tuple[RerouteEdge, ...]:
    """The reroute graph as apply without --prune would leave it: the registry's own
    entries stand where no file declares them."""
    desired = load_desired(request.models_dir)
    definitions: dict[str, Mapping[str, Any]] = {}
    if not request.files_only:
        live = fetch_live(request.source, request.source.api_key()).entries
        definitions.update((entry.id, entry.definition) for entry in live)
    definitions.update((d.id, d.body) for d in desired.definitions)
    return graph_edges(definitions)
