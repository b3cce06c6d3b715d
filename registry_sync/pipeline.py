"""What the commands do between parsing and printing, without click: merge the
project configuration into the flags, plan and judge, check problems, and turn
results into exit codes.

Exit codes: 0 success; 1 error, invalid models or a policy violation; 2 changes
present (``plan --detailed-exitcode``); 3 some writes landed and others failed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Container, Mapping, Sequence
from pathlib import Path
from typing import Any

from registry_sync.applier import ApplyResult
from registry_sync.config import ProjectConfig, project_config
from registry_sync.errors import ConfigError, InvalidModels
from registry_sync.loader import check_reroute_graph, check_reroute_targets
from registry_sync.parsecache import ParseCache
from registry_sync.plan import Plan, Risk
from registry_sync.planner import IgnoreRule, PlanOptions, build_plan, replace_problems
from registry_sync.policy import Rules, SafetyRails, judge
from registry_sync.problems import Problem
from registry_sync.state import API_KEY_VARIABLE, LiveSource, fetch_live, load_desired
from registry_sync.writable import write_problems

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_PARTIAL = 3

Warn = Callable[[str], None]
"""Where warnings go (a line of text each), e.g. the CLI's stderr."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a command works on, once the project configuration has filled in what no
    flag or environment variable set."""

    config: ProjectConfig
    models_dir: Path
    source: LiveSource
    prune: bool


def configured(
    config_file: Path | None,
    models_dir: Path,
    source: LiveSource,
    prune: bool,
    given: Container[str],
    *,
    models_dir_param: str = "models_dir",
) -> Settings:
    """Read the project configuration; flags and environment variables (the parameter
    names in ``given``) override it."""
    config = project_config(config_file)
    if config.models_dir is not None and models_dir_param not in given:
        models_dir = config.models_dir
    if config.api_url is not None and "api_url" not in given:
        source = dataclasses.replace(source, api_url=config.api_url)
    if config.prune is not None and "prune" not in given:
        prune = config.prune
    return Settings(config, models_dir, source, prune)


def policy_rules(
    config: ProjectConfig,
    max_deletes: int | None,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
) -> Rules:
    """The rules a plan is judged by: flags first, then registry-sync.yaml."""
    rails = SafetyRails(
        protect=config.protect,
        max_deletes=config.max_deletes if max_deletes is None else max_deletes,
        allow_delete_all=allow_delete_all,
        freeze=config.freeze,
    )
    return Rules(
        rails=rails,
        deny=frozenset(Risk(name) for name in config.deny),
        allow=frozenset(Risk(name) for name in allowed),
    )


def compute_plan(
    models_dir: Path,
    source: LiveSource,
    *,
    prune: bool,
    ignore: tuple[IgnoreRule, ...] = (),
    server_defaults: Mapping[str, Any] | None = None,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    warn: Warn | None = None,
    rules: Rules | None = None,
    cache: ParseCache | None = None,
) -> Plan:
    """Load models/, fetch the live registry, check references, plan, check that the
    API accepts every write, and judge the plan by ``rules`` (risk, violations).
    Warnings go to ``warn``; ``cache`` is the parse cache (None: none)."""
    desired = load_desired(models_dir, strict=strict, cache=cache)
    if warn is not None:
        print_warnings(warn, desired.warnings)
    live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
    wrong = replace_problems(replace, desired.definitions, live)
    if wrong:
        raise ConfigError("; ".join(wrong))
    known = {d.id for d in desired.definitions}
    # A target the plan deletes is the policy's to report (reroute-target-deleted).
    known.update(entry.id for entry in live)
    definitions = {entry.id: entry.definition for entry in live}
    graph = check_reroute_graph(desired.definitions, definitions)
    references = [*check_reroute_targets(desired.definitions, known), *graph]
    check_problems(sorted(set(references)), strict=strict, warn=warn)
    options = PlanOptions(
        prune=prune,
        ignore=ignore,
        replace=frozenset(replace),
        server_defaults=server_defaults or {},
        models_dir=str(models_dir).rstrip("/"),
        registry=source.describe(),
    )
    computed = build_plan(desired.definitions, live, options)
    check_problems(write_problems(computed), strict=strict, warn=warn)
    return judge(computed, rules or Rules(), definitions)


def check_problems(problems: Sequence[Problem], *, strict: bool, warn: Warn | None) -> None:
    """Raise :class:`InvalidModels` when a problem is an error (or, with ``strict``, a
    warning); otherwise pass the warnings to ``warn`` and go on."""
    if any(problem.severity == "error" for problem in problems) or (strict and problems):
        raise InvalidModels(problems)
    if warn is not None:
        print_warnings(warn, problems)


def print_warnings(warn: Warn, warnings: Sequence[Problem]) -> None:
    """Pass each warning (not the errors) to ``warn``."""
    for warning in warnings:
        if warning.severity == "warning":
            warn(str(warning))


def conflict_message(computed: Plan) -> str:
    """Why a plan with read-only conflicts fails, and what to do about it."""
    ids = ", ".join(change.id for change in computed.conflicts)
    count = len(computed.conflicts)
    return (
        f"{count} read-only {'conflict' if count == 1 else 'conflicts'} ({ids}): the server "
        f"defines {'this entry' if count == 1 else 'these entries'} itself and no write can "
        f"change {'it' if count == 1 else 'them'}; make {computed.models_dir}/ match the "
        "registry, or remove the file"
    )


def plan_exit_code(computed: Plan, *, detailed: bool) -> int:
    """1 for a violation (a read-only conflict among them); with ``detailed``, 2 when
    anything would change."""
    if computed.violations:
        return EXIT_ERROR
    if detailed and computed.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def apply_exit_code(result: ApplyResult) -> int:
    """0 when every write is done, 3 when some landed and others did not (or a run
    that wrote was interrupted), else 1."""
    if result.interrupted and result.wrote:
        return EXIT_PARTIAL
    if result.complete:
        return EXIT_OK
    return EXIT_PARTIAL if result.wrote else EXIT_ERROR
