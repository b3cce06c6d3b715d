"""``graph``: models/ laid over the live registry in; the reroute edges out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.bounds import DEFAULT_LIMITS, LoadLimits
from registry_sync.desired.load import load_desired, load_for_generation
from registry_sync.live.sources import LiveSource
from registry_sync.operations.inputs import desired_and_live
from registry_sync.schema.reroutes import RerouteEdge, graph_edges

__all__ = ["GraphRequest", "reroute_edges"]


@dataclass(frozen=True)
class GraphRequest:
    """Draw ``models_dir`` (read within ``limits``) over the registry ``source`` (or,
    ``files_only``, alone)."""

    models_dir: Path
    source: LiveSource
    files_only: bool = False
    limits: LoadLimits = DEFAULT_LIMITS


def reroute_edges(request: GraphRequest) -> tuple[RerouteEdge, ...]:
    """The reroute graph as apply without --prune would leave it: the registry's own
    entries stand where no file declares them."""
    definitions: dict[str, Mapping[str, Any]] = {}
    if request.files_only:
        # No registry to ask: the pinned generation, else whichever accepts the files.
        limits = request.limits
        found = load_for_generation(request.models_dir, api=request.source.api, limits=limits)
        desired = found or load_desired(request.models_dir, api="catalog", limits=limits)
    else:
        desired, live = desired_and_live(request.models_dir, request.source, limits=request.limits)
        definitions.update((entry.id, entry.definition) for entry in live.entries)
    definitions.update((d.id, d.body) for d in desired.definitions)
    return graph_edges(definitions)
