"""``health``: the entries models/ declares (as one environment sees them) in; one
health row per entry probed now, and the exit code those rows give, out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry_sync.apply.health import ModelHealth, check_models
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK, EXIT_UNHEALTHY
from registry_sync.live.sources import LiveSource, open_client
from registry_sync.operations.inputs import desired_and_live
from registry_sync.plan.targeting import matches
from registry_sync.settings.config import ProjectConfig
from registry_sync.settings.defaults import DEFAULT_PARALLELISM

__all__ = ["HealthRequest", "health_exit_code", "probe_health"]


@dataclass(frozen=True)
class HealthRequest:
    """Probe the ids declared in ``models_dir`` (as ``scope`` sees it) that match
    ``targets`` (all without), in the registry ``source``."""

    models_dir: Path
    source: LiveSource
    targets: tuple[str, ...] = ()
    scope: ProjectConfig | None = None


def probe_health(
    request: HealthRequest, *, on_progress: Callable[[int, int, int], None] | None = None
) -> tuple[ModelHealth, ...]:
    """One row per declared id probed: available, unavailable, or unknown (a probe
    that failed, or an id the registry does not have). ``on_progress`` hears the probes
    done, in all, and how many failed or found the entry unavailable."""
    desired, state = desired_and_live(request.models_dir, request.source, config=request.scope)
    ids = sorted(d.id for d in desired.definitions)
    if request.targets:
        ids = [i for i in ids if matches(i, request.targets)]
        if not ids:
            raise ConfigError(
                f"no id declared in {request.models_dir}/ matches --target "
                f"{', '.join(request.targets)}; check the pattern (a glob, e.g. 'meetkai:*')"
            )
    # The generation found is pinned for the probes: the registry is not asked again.
    source = dataclasses.replace(request.source, api=state.api)
    present = {entry.id for entry in state.entries}
    with open_client(source, source.api_key(), connections=DEFAULT_PARALLELISM) as client:
        return check_models(
            client, ids, present, parallelism=DEFAULT_PARALLELISM, on_progress=on_progress
        )


def health_exit_code(rows: tuple[ModelHealth, ...]) -> int:
    """4 when an entry is unavailable, else 1 when one could not be probed, else 0 (an
    entry whose status the catalog reports unknown is neither: it counts for none)."""
    if any(row.is_available is False for row in rows):
        return EXIT_UNHEALTHY
    failed = any(row.is_available is None and row.status != "unknown" for row in rows)
    return EXIT_ERROR if failed else EXIT_OK
