"""The options several commands share, as decorators, and where a value came from."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from click.core import ParameterSource

from registry_sync.client import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    NetworkDeadline,
    RetryPolicy,
)
from registry_sync.parsecache import CACHE_DIR_ENV, default_cache
from registry_sync.plan import Risk
from registry_sync.state import API_KEY_VARIABLE, DEFAULT_API_URL, LiveSource

F = TypeVar("F", bound=Callable[..., Any])

MB = 1024 * 1024


def replace_option(function: F) -> F:
    return click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="ID",
        help="Delete and re-create this declared, mutable entry (exact id); repeat for more. "
        "The only way a plan replaces an entry.",
    )(function)


def models_dir_option(function: F) -> F:
    return click.option(
        "--models-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("models"),
        show_default=True,
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


def policy_options(function: F) -> F:
    """The rules a plan is judged by, the same for plan and apply."""
    options = [
        click.option(
            "--max-deletes",
            type=click.IntRange(min=0),
            default=None,
            metavar="N",
            help="Refuse a plan that deletes more than N entries (default: max_deletes in "
            "registry-sync.yaml, else no cap).",
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
            type=click.Choice([Risk.DESTRUCTIVE.value, Risk.BREAKING.value]),
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
        click.option(
            "--api-url",
            envvar="MKA1_API_URL",
            default=DEFAULT_API_URL,
            show_default=True,
            help="Registry API base URL [env: MKA1_API_URL]. The API key is read only "
            f"from {API_KEY_VARIABLE}.",
        ),
        click.option(
            "--on-behalf-of",
            envvar="MKA1_ON_BEHALF_OF",
            default=None,
            help="Send X-On-Behalf-Of with this external user id [env: MKA1_ON_BEHALF_OF].",
        ),
        # Commands that write need the API itself.
        *([registry_file_option] if offline else []),
        click.option(
            "--retry-budget",
            type=click.FloatRange(min=0),
            default=RetryPolicy.max_elapsed,
            show_default=True,
            metavar="SECONDS",
            help="How long to keep retrying a request on 429, 5xx or connection errors "
            "(0 disables retries).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            metavar="SECONDS",
            help="The most time the command spends on the network in total, retries included.",
        ),
        click.option(
            "--max-response-mb",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_RESPONSE_BYTES // MB,
            show_default=True,
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

    # The command receives one ``source: LiveSource`` instead of the separate flags.
    @functools.wraps(function)
    def command(
        *args: Any,
        api_url: str,
        on_behalf_of: str | None,
        retry_budget: float,
        timeout: float,
        max_response_mb: int,
        allow_insecure_http: bool,
        registry_file: Path | None = None,
        **kwargs: Any,
    ) -> Any:
        source = LiveSource(
            api_url=api_url,
            registry_file=registry_file,
            on_behalf_of=on_behalf_of,
            retry_budget=retry_budget,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_mb * MB,
            deadline=NetworkDeadline(timeout),
        )
        return function(*args, source=source, **kwargs)

    wrapped: Any = command
    for option in reversed(options):
        wrapped = option(wrapped)
    return cast(F, wrapped)


def cache_option(function: F) -> F:
    """``--no-cache``, passed on as ``cache``: the parse cache, or None to bypass it."""
    return click.option(
        "--no-cache",
        "cache",
        is_flag=True,
        callback=lambda _context, _param, bypass: None if bypass else default_cache(),
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


def given(name: str) -> bool:
    """True when parameter ``name`` came from the command line or the environment."""
    where = click.get_current_context().get_parameter_source(name)
    return where not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def given_names() -> frozenset[str]:
    """The parameters of the current command that came from the command line or the
    environment."""
    return frozenset(name for name in click.get_current_context().params if given(name))


def color_option(function: F) -> F:
    return click.option(
        "--color/--no-color",
        default=None,
        help="Force colour on or off (default: on for a terminal; NO_COLOR turns it off, "
        "FORCE_COLOR on).",
    )(function)
