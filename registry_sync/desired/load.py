"""models/ -> the definitions one environment gets: the one "load, then overlay" step
every command runs (validate, render, plan, apply, health, graph and the action)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from registry_sync.desired.loader import LoadResult, load_models
from registry_sync.desired.overlay import effective_definitions
from registry_sync.errors import InvalidModels

if TYPE_CHECKING:
    from registry_sync.desired.parsecache import ParseCache
    from registry_sync.settings.config import ProjectConfig

__all__ = ["load_desired", "load_effective"]


def load_effective(
    models_dir: Path, config: ProjectConfig | None = None, cache: ParseCache | None = None
) -> LoadResult:
    """Load models/ (through ``cache``) as the environment ``config`` selects sees it,
    with its overlay, variables and owns; every problem stays in the result."""
    result = load_models(models_dir, cache)
    if config is not None:
        result = effective_definitions(result, config)
    return result


def load_desired(
    models_dir: Path,
    *,
    strict: bool = False,
    config: ProjectConfig | None = None,
    cache: ParseCache | None = None,
) -> LoadResult:
    """:func:`load_effective`, raising :class:`InvalidModels` with every problem if any
    error (or, with ``strict``, any warning) was found; warnings stay in the result."""
    result = load_effective(models_dir, config, cache)
    if result.failing(strict=strict):
        raise InvalidModels(result.problems)
    return result
