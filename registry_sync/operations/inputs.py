"""What every use case is given, built from the settings: the live registry they
name, the rules a plan is judged by, the environments selected, the parse cache,
the bound on the files' work."""

from __future__ import annotations

from pathlib import Path

from registry_sync.desired.bounds import LoadLimits
from registry_sync.desired.checks import Warn
from registry_sync.desired.load import load_desired, load_for_generation
from registry_sync.desired.loader import LoadResult
from registry_sync.desired.parsecache import ParseCache, default_cache
from registry_sync.errors import ConfigError
from registry_sync.live.advice import Advice
from registry_sync.live.network import NetworkDeadline
from registry_sync.live.sources import LiveSource, LiveState, fetch_live
from registry_sync.plan.model import Risk
from registry_sync.plan.policy import Rules, SafetyRails
from registry_sync.settings.config import ProjectConfig, project_config
from registry_sync.settings.defaults import API_URL_VARIABLE, CONFIG_FILE
from registry_sync.settings.resolve import MB, Origin, Settings

__all__ = [
    "desired_and_live",
    "environment_names",
    "live_source",
    "load_limits",
    "parse_cache",
    "policy_rules",
    "url_setting",
]


def live_source(
    settings: Settings, *, registry_file: Path | None = None, allow_insecure_http: bool = False
) -> LiveSource:
    """The live registry the settings name, or the saved list response ``registry_file``;
    the network deadline starts now."""
    return LiveSource(
        api_url=settings.api_url,
        registry_file=registry_file,
        on_behalf_of=settings.on_behalf_of,
        retry_budget=settings.retry_budget,
        allow_insecure_http=allow_insecure_http,
        max_response_bytes=settings.max_response_mb * MB,
        api_key_env=settings.api_key_env,
        deadline=NetworkDeadline(settings.timeout),
        api=settings.api,
        advice=Advice(
            url_setting=url_setting(settings.origins.get("api_url", Origin("default"))),
            key_variable=settings.api_key_env,
            environment=settings.environment,
        ),
    )


def url_setting(origin: Origin) -> str:
    """Where the API URL came from, as the setting people change: ``MKA1_API_URL``,
    ``--api-url``, ``api_url in registry-sync.yaml``, an environment's ``api_url``."""
    if origin.kind == "flag":
        return origin.where
    if origin.kind == "environment variable":
        return origin.where
    if origin.kind == "environment":
        name, _, file = origin.where.partition(" in ")
        return f"the api_url of environment {name} in {file or CONFIG_FILE}"
    if origin.kind == "file":
        return f"api_url in {origin.where}"
    return f"the default (set {API_URL_VARIABLE} or --api-url for another registry)"


def policy_rules(settings: Settings, allow_delete_all: bool, allowed: tuple[str, ...]) -> Rules:
    """The rules a plan is judged by: the settings' rails and policy, and what the
    flags allow on top."""
    rails = SafetyRails(
        protect=settings.protect,
        max_deletes=settings.max_deletes,
        allow_delete_all=allow_delete_all,
        freeze=settings.freeze,
    )
    return Rules(
        rails=rails,
        deny=frozenset(Risk(name) for name in settings.deny),
        allow=frozenset(Risk(name) for name in allowed),
    )


def parse_cache(use: bool, warn: Warn | None = None) -> ParseCache | None:
    """The parse cache runs read and fill (``--no-cache`` passes False: none); why it
    is not used (a folder or file others can write, say) goes to ``warn``."""
    return default_cache(warn) if use else None


def load_limits(settings: Settings) -> LoadLimits:
    """The bound on one run's work the settings set (``limits:`` of registry-sync.yaml)."""
    return LoadLimits.of(settings.scope())


def environment_names(config_file: Path | None, given: tuple[str, ...]) -> list[str]:
    """The environments ``--env`` names, in the order given; ``all`` is every one of
    registry-sync.yaml, in its order. Unknown names are reported when selected."""
    names: list[str] = []
    for name in given:
        if name == "all":
            config = project_config(config_file)
            if not config.environments:
                raise ConfigError(
                    f"--env all: {config.file or CONFIG_FILE} declares no environments; add "
                    "an 'environments:' mapping, or leave --env out"
                )
            found = list(config.environments)
        else:
            found = [name]
        names.extend(item for item in found if item not in names)
    return names


def desired_and_live(
    models_dir: Path,
    source: LiveSource,
    *,
    config: ProjectConfig | None = None,
    strict: bool = False,
    cache: ParseCache | None = None,
    limits: LoadLimits | None = None,
) -> tuple[LoadResult, LiveState]:
    """models/ (as the environment ``config`` selects sees it) and the live registry,
    the files validated for the API generation the registry speaks: pinned
    (``source.api``), or found when the registry is asked. Invalid files raise
    :class:`~registry_sync.errors.InvalidModels` before any request when the pinned
    generation, or both, refuse them. ``limits`` bound the files' work; None: those
    ``config`` sets (the defaults without one)."""
    first = load_for_generation(
        models_dir, api=source.api, strict=strict, config=config, cache=cache, limits=limits
    )
    live = fetch_live(source, source.api_key())
    if first is not None and (source.api is not None or live.api == "registry"):
        return first, live
    again = load_desired(
        models_dir, strict=strict, config=config, cache=cache, api=live.api, limits=limits
    )
    return again, live
