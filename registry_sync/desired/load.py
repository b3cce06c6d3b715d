"""models/ -> the definitions one environment gets: the one "load, then overlay" step
every command runs (validate, render, plan, apply, health, graph and the action)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from registry_sync.desired.bounds import LoadLimits
from registry_sync.desired.loader import LoadResult, load_models
from registry_sync.desired.overlay import effective_definitions
from registry_sync.errors import InvalidModels

if TYPE_CHECKING:
    from registry_sync.desired.parsecache import ParseCache
    from registry_sync.settings.config import ProjectConfig

__all__ = ["load_desired", "load_effective", "load_for_generation"]


def load_effective(
    models_dir: Path,
    config: ProjectConfig | None = None,
    cache: ParseCache | None = None,
    api: str = "registry",
    limits: LoadLimits | None = None,
) -> LoadResult:
    """Load models/ (through ``cache``) as the environment ``config`` selects sees it,
    with its overlay, variables and owns, validated for API generation ``api``; every
    problem stays in the result. ``limits`` bound the files' work; None: those
    ``config`` sets (the defaults without one)."""
    bound = limits or LoadLimits.of(config)
    result = load_models(models_dir, cache, api=api, limits=bound)
    if config is not None:
        result = effective_definitions(result, config, api)
    return result


def load_desired(
    models_dir: Path,
    *,
    strict: bool = False,
    config: ProjectConfig | None = None,
    cache: ParseCache | None = None,
    api: str = "registry",
    limits: LoadLimits | None = None,
) -> LoadResult:
    """:func:`load_effective`, raising :class:`InvalidModels` with every problem if any
    error (or, with ``strict``, any warning) was found; warnings stay in the result."""
    result = load_effective(models_dir, config, cache, api, limits)
    if result.failing(strict=strict):
        raise InvalidModels(result.problems)
    return result


def load_for_generation(
    models_dir: Path,
    *,
    api: str | None,
    strict: bool = False,
    config: ProjectConfig | None = None,
    cache: ParseCache | None = None,
    limits: LoadLimits | None = None,
) -> LoadResult | None:
    """What to load before the registry is asked which API generation it speaks:
    :func:`load_desired` for the ``api`` pinned. Unpinned, the files as the registry
    generation reads them when they are valid for it; else None when they are valid
    for the catalog generation, or when what is wrong depends on the generation (load
    them again once the registry has said). Problems both generations find raise at
    once, so files broken either way never cost a request."""
    if api is not None:
        return load_desired(
            models_dir, strict=strict, config=config, cache=cache, api=api, limits=limits
        )
    result = load_effective(models_dir, config, cache, limits=limits)
    if not result.failing(strict=strict):
        return result
    catalog = load_effective(models_dir, config, cache, "catalog", limits)
    if not catalog.failing(strict=strict):
        return None
    common = set(result.failing(strict=strict)) & set(catalog.failing(strict=strict))
    if not common:
        return None
    raise InvalidModels(sorted(set(result.problems) & set(catalog.problems)))
