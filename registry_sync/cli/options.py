"""The options several commands share, as decorators, and the bridge from click's
parameters to the one settings resolver (:mod:`registry_sync.settings.resolve`).

An option backed by a setting has no click default (None means "not given"): the
resolver decides, and ``--help`` shows where the default comes from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
from click.core import ParameterSource

from registry_sync.cli.output import Output, warn_insecure
from registry_sync.settings.defaults import API_KEY_VARIABLE, CACHE_DIR_ENV, POLICY_RISKS
from registry_sync.settings.resolve import (
    API_CHOICES,
    Given,
    Settings,
    default_text,
    resolve_settings,
)

if TYPE_CHECKING:
    from registry_sync.live.sources import LiveSource
    from registry_sync.operations.plan import PlanRequest

__all__ = [
    "ENV_HELP",
    "SettingOption",
    "SourceFlags",
    "api_option",
    "api_source_options",
    "cache_option",
    "color_option",
    "compact_option",
    "config_option",
    "env_option",
    "envs_option",
    "given",
    "live_registry",
    "live_source_options",
    "models_dir_option",
    "policy_options",
    "prune_option",
    "replace_option",
    "resolved",
    "setting_option",
    "strict_option",
    "target_option",
]

F = TypeVar("F", bound=Callable[..., Any])


class SettingOption(click.Option):
    """An option backed by a setting: ``--help`` shows the resolver's default chain."""

    def __init__(self, *args: Any, setting: str, **kwargs: Any) -> None:
        super().__init__(*args, default=None, **kwargs)
        self.setting = setting

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        shown = default_text(self.setting)
        if shown != "none":
            extra["default"] = shown
        return extra


def setting_option(*decls: str, setting: str, **kwargs: Any) -> Callable[[F], F]:
    """``click.option`` for an option backed by ``setting``."""
    return click.option(*decls, cls=SettingOption, setting=setting, **kwargs)


@dataclass(frozen=True)
class SourceFlags:
    """The flags about the live registry that are not settings: per run, never in
    registry-sync.yaml."""

    registry_file: Path | None = None
    allow_insecure_http: bool = False


def live_registry(settings: Settings, flags: SourceFlags, output: Output) -> LiveSource:
    """The live registry ``settings`` and the per-run ``flags`` name; says so on
    ``output`` when the key would cross the network in clear."""
    from registry_sync.operations.inputs import live_source

    live = live_source(
        settings,
        registry_file=flags.registry_file,
        allow_insecure_http=flags.allow_insecure_http,
    )
    warn_insecure(live, output)
    return live


def resolved(config_file: Path | None, environment: str | None = None) -> Settings:
    """The current command's settings: what its command line set, resolved by the
    one rule (:func:`registry_sync.settings.resolve.resolve_settings`), for ``environment``
    of registry-sync.yaml when one is selected (``--env``)."""
    context = click.get_current_context()
    flags: dict[str, Given] = {}
    for param in context.command.params:
        if not isinstance(param, SettingOption) or param.name is None:
            continue
        value = context.params.get(param.name)
        if value is None:
            continue
        # The flag as typed: --no-prune for a False on/off flag.
        spelling = param.opts[0] if value is not False else param.secondary_opts[0]
        flags[param.setting] = Given(value, spelling)
    return resolve_settings(flags, config_file=config_file, environment=environment)


def replace_option(function: F) -> F:
    return click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="ID",
        help="Delete and re-create this declared, mutable entry (exact id); repeat for more. "
        "The only way a plan replaces an entry.",
    )(function)


def target_option(function: F) -> F:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="PATTERN",
        help="Plan only the ids matching PATTERN (an exact id or a glob such as 'openai:*'); "
        "repeat for more. The plan is then partial; a pattern matching nothing is an error.",
    )(function)


def compact_option(function: F) -> F:
    return click.option(
        "--compact",
        is_flag=True,
        help="Text plan with one line per entry (mark, id, fields touched), for large plans.",
    )(function)


def models_dir_option(function: F) -> F:
    return setting_option(
        "--models-dir",
        setting="models_dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Folder of model definition files (*.yaml, *.yml, searched recursively).",
    )(function)


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Project configuration file (default: registry-sync.yaml in this folder or "
        "the nearest parent, up to the repository root).",
    )(function)


def prune_option(help_text: str) -> Callable[[F], F]:
    return setting_option("--prune/--no-prune", setting="prune", help=help_text)


def policy_options(function: F) -> F:
    """The rules a plan is judged by, the same for plan and apply."""
    options = [
        setting_option(
            "--max-deletes",
            setting="max_deletes",
            type=click.IntRange(min=0),
            metavar="N",
            help="Refuse a plan that deletes more than N entries.",
        ),
        click.option(
            "--allow-delete-all",
            is_flag=True,
            help="Allow a plan that deletes every mutable entry of the registry.",
        ),
        click.option(
            "--allow",
            "allowed",
            multiple=True,
            type=click.Choice(POLICY_RISKS),
            help="Allow changes of this risk class although policy: in registry-sync.yaml "
            "denies it; repeat for both.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def live_source_options(function: F) -> F:
    """The registry to read: the API (URL, user, retries) or a saved list response."""
    return _source_options(function, offline=True)


def api_source_options(function: F) -> F:
    """The registry API to talk to, for commands that write: no --registry-file."""
    return _source_options(function, offline=False)


def _source_options(function: F, *, offline: bool) -> F:
    registry_file_option = click.option(
        "--registry-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Work offline from a saved list response "
        '({"object": "list", "data": [...]}) instead of calling the API.',
    )
    options = [
        setting_option(
            "--api-url",
            setting="api_url",
            help="Registry API base URL [env: MKA1_API_URL]. The API key is read only "
            f"from {API_KEY_VARIABLE}.",
        ),
        api_option(
            "The API generation the registry speaks [env: MKA1_API]: registry (the "
            "registry API) or catalog (the catalog and activation API). Pinning it saves "
            "the one request that detects it."
        ),
        setting_option(
            "--on-behalf-of",
            setting="on_behalf_of",
            help="Send X-On-Behalf-Of with this external user id [env: MKA1_ON_BEHALF_OF].",
        ),
        # Commands that write need the API itself.
        *([registry_file_option] if offline else []),
        setting_option(
            "--retry-budget",
            setting="retry_budget",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="How long to keep retrying a request on 429, 5xx or connection errors "
            "(0 disables retries).",
        ),
        setting_option(
            "--timeout",
            setting="timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help="The most time the command spends on the network in total, retries included.",
        ),
        setting_option(
            "--max-response-mb",
            setting="max_response_mb",
            type=click.IntRange(min=1),
            metavar="MB",
            help="Refuse a registry answer larger than this.",
        ),
        click.option(
            "--allow-insecure-http",
            is_flag=True,
            help="Allow a plain http:// API URL to another machine (the key then crosses "
            "the network unencrypted). http://localhost needs no flag.",
        ),
    ]

    # The command receives one ``source: SourceFlags``; the settings among these
    # options reach it through :func:`resolved`.
    @functools.wraps(function)
    def command(
        *args: Any,
        api_url: str | None,
        api: str | None,
        on_behalf_of: str | None,
        retry_budget: float | None,
        timeout: float | None,
        max_response_mb: int | None,
        allow_insecure_http: bool,
        registry_file: Path | None = None,
        **kwargs: Any,
    ) -> Any:
        source = SourceFlags(registry_file=registry_file, allow_insecure_http=allow_insecure_http)
        return function(*args, source=source, **kwargs)

    wrapped: Any = command
    for option in reversed(options):
        wrapped = option(wrapped)
    return cast(F, wrapped)


def api_option(help_text: str) -> Callable[[F], F]:
    """``--api registry|catalog``, backed by the setting ``api`` (``MKA1_API``, ``api:``
    in registry-sync.yaml)."""
    return setting_option("--api", setting="api", type=click.Choice(API_CHOICES), help=help_text)


def cache_option(function: F) -> F:
    """``--no-cache``, passed on as ``use_cache``: False bypasses the parse cache."""
    return click.option(
        "--no-cache",
        "use_cache",
        is_flag=True,
        callback=lambda _context, _param, bypass: not bypass,
        help=(
            "Parse and validate every model file again instead of reusing what earlier "
            f"runs found in unchanged files (cached in ${CACHE_DIR_ENV} or the user "
            "cache directory)."
        ),
    )(function)


def strict_option(function: F) -> F:
    return click.option(
        "--strict",
        is_flag=True,
        help="Fail on warnings too (rules the registry API itself does not enforce).",
    )(function)


ENV_HELP = (
    "Work on this environment of registry-sync.yaml's environments: its api_url, the key "
    "in its api_key_env, its overlay, vars and rails [env: MKA1_ENV]. MKA1_API_URL and "
    "MKA1_API_KEY never redirect it; an explicit --api-url does, and the plan says so."
)


def env_option(function: F) -> F:
    """``--env NAME`` (or MKA1_ENV): one environment."""
    return click.option(
        "--env", "environment", envvar="MKA1_ENV", default=None, metavar="NAME", help=ENV_HELP
    )(function)


def envs_option(function: F) -> F:
    """``--env NAME`` repeated, or ``--env all`` (MKA1_ENV: names separated by spaces)."""
    return click.option(
        "--env",
        "environments",
        envvar="MKA1_ENV",
        multiple=True,
        metavar="NAME",
        help=ENV_HELP + " Repeat it, or give 'all', to plan several in one run.",
    )(function)


def given(name: str) -> bool:
    """True when parameter ``name`` came from the command line or the environment."""
    where = click.get_current_context().get_parameter_source(name)
    return where not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def color_option(function: F) -> F:
    return click.option(
        "--color/--no-color",
        default=None,
        help="Force colour on or off (default: on for a terminal; NO_COLOR turns it off, "
        "FORCE_COLOR on).",
    )(function)


def plan_request(
    settings: Settings,
    flags: SourceFlags,
    output: Output,
    *,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
    replace: tuple[str, ...],
    strict: bool,
    targets: tuple[str, ...],
    use_cache: bool,
) -> PlanRequest:
    """What plan and apply plan from: the settings, the registry they and the per-run
    ``flags`` name, the rules and the run's own choices."""
    from registry_sync.operations.inputs import parse_cache, policy_rules
    from registry_sync.operations.plan import PlanRequest

    return PlanRequest(
        settings=settings,
        source=live_registry(settings, flags, output),
        rules=policy_rules(settings, allow_delete_all, allowed),
        replace=replace,
        strict=strict,
        targets=targets,
        cache=parse_cache(use_cache, output.err),
    )
