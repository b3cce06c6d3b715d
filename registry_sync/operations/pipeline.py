"""What the commands do between parsing and printing, without click: the live
source and rules the settings name, plan and judge, check problems, and turn
results into exit codes (:mod:`registry_sync.exitcodes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_sync.desired.checks import Warn, check_problems, print_warnings
from registry_sync.desired.loader import check_reroute_graph, check_reroute_targets
from registry_sync.desired.overlay import point_at_origins
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNHEALTHY,
)
from registry_sync.live.network import NetworkDeadline
from registry_sync.live.sources import LiveSource, fetch_live, load_desired
from registry_sync.plan.compare import IgnoreRule
from registry_sync.plan.model import Plan, Risk
from registry_sync.plan.planner import PlanOptions, build_plan, replace_problems
from registry_sync.plan.policy import Rules, SafetyRails, judge
from registry_sync.plan.targeting import matches, select
from registry_sync.plan.writable import write_problems
from registry_sync.settings.config import ProjectConfig
from registry_sync.settings.resolve import MB, Settings

if TYPE_CHECKING:
    from registry_sync.apply.applier import ApplyResult
    from registry_sync.apply.health import HealthReport
    from registry_sync.desired.parsecache import ParseCache


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
    )


def plan_for(
    settings: Settings,
    source: LiveSource,
    *,
    rules: Rules,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    warn: Warn | None = None,
    targets: tuple[str, ...] = (),
    cache: ParseCache | None = None,
) -> Plan:
    """:func:`compute_plan` with everything ``settings`` decide (models folder, prune,
    comparison rules, the environment's scope and URL): what plan and apply both run."""
    return compute_plan(
        settings.models_dir,
        source,
        prune=settings.prune,
        ignore=settings.ignore,
        server_defaults=settings.server_defaults,
        replace=replace,
        strict=strict,
        warn=warn,
        rules=rules,
        scope=settings.scope(),
        environment_api_url=settings.environment_api_url,
        targets=targets,
        cache=cache,
    )


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
    scope: ProjectConfig | None = None,
    environment_api_url: str | None = None,
    targets: tuple[str, ...] = (),
    cache: ParseCache | None = None,
) -> Plan:
    """Load models/ (through the parse ``cache``; with the environment, overlay,
    variables and owns of ``scope``, see :meth:`Settings.scope`), fetch the live
    registry, check references, plan, check that the API accepts every write, and
    judge the plan by ``rules`` (risk, violations). With ``targets`` (``--target``
    patterns) only matching ids are planned: the files and references are still all
    checked. Warnings go to ``warn``. ``environment_api_url`` is the environment's
    own URL: the plan says so when the registry is another."""
    scope = scope or ProjectConfig()
    desired = load_desired(models_dir, strict=strict, config=scope, cache=cache)
    if warn is not None:
        print_warnings(warn, desired.warnings)
    live = fetch_live(source, source.api_key())
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
        owns=scope.owns,
        environment=scope.environment,
    )
    if targets:
        outside = [model_id for model_id in replace if not matches(model_id, targets)]
        if outside:
            raise ConfigError(
                f"--replace {', '.join(outside)}: outside every --target; add a --target "
                "that matches it, or leave it out"
            )
        chosen = select(targets, desired.definitions, live)
        computed = dataclasses.replace(
            build_plan(chosen.desired, chosen.live, options),
            targets=targets,
            untargeted=chosen.untargeted,
        )
    else:
        computed = build_plan(desired.definitions, live, options)
    if scope.environment is not None:
        computed = point_at_origins(computed, desired.definitions)
        if environment_api_url is not None and source.registry_file is None:
            own = LiveSource(api_url=environment_api_url, allow_insecure_http=True).describe()
            if own != computed.registry:
                computed = dataclasses.replace(computed, environment_api_url=own)
    check_problems(write_problems(computed), strict=strict, warn=warn)
    return judge(computed, rules or Rules(), definitions)


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


def apply_exit_code(result: ApplyResult, health: HealthReport | None = None) -> int:
    """0 when every write is done, 3 when some landed and others did not (or a run
    that wrote was interrupted), else 1; a run whose writes are all done but left an
    entry unhealthy (``health``, from ``--verify-health``) is 4."""
    if result.interrupted and result.wrote:
        return EXIT_PARTIAL
    if result.complete:
        return EXIT_UNHEALTHY if health is not None and health.unhealthy else EXIT_OK
    return EXIT_PARTIAL if result.wrote else EXIT_ERROR
