"""``plan``: settings, the live registry and rules in; a judged plan out, with the
errors it carries and its exit code. Warnings go to a callback, never printed here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from registry_sync.desired.checks import Warn, check_problems, print_warnings
from registry_sync.desired.loader import LoadResult, check_reroute_graph, check_reroute_targets
from registry_sync.desired.parsecache import ParseCache
from registry_sync.errors import ConfigError
from registry_sync.exitcodes import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from registry_sync.live.sources import LiveSource, LiveState
from registry_sync.operations.inputs import desired_and_live
from registry_sync.plan.activation import activation_problems
from registry_sync.plan.model import Plan
from registry_sync.plan.origins import point_at_origins
from registry_sync.plan.planner import PlanOptions, build_plan, replace_problems
from registry_sync.plan.policy import Rules, judge
from registry_sync.plan.targeting import matches, select
from registry_sync.plan.writable import write_problems
from registry_sync.settings.resolve import Settings

__all__ = [
    "PlanRequest",
    "conflict_message",
    "make_plan",
    "plan_errors",
    "plan_exit_code",
    "plan_from",
    "plans_exit_code",
]


@dataclass(frozen=True)
class PlanRequest:
    """What a plan is made from: the settings (models folder, prune, comparison rules,
    the environment's scope and URL), the live registry, the rules it is judged by,
    and the run's own choices (``--replace``, ``--strict``, ``--target``, the cache)."""

    settings: Settings
    source: LiveSource
    rules: Rules = dataclasses.field(default_factory=Rules)
    replace: tuple[str, ...] = ()
    strict: bool = False
    targets: tuple[str, ...] = ()
    cache: ParseCache | None = None


def make_plan(request: PlanRequest, warn: Warn | None = None) -> Plan:
    """Load models/ (through the parse cache, as the environment of the settings sees
    it), fetch the live registry, check references, plan, check that the API accepts
    every write, and judge the plan by the rules (risk, violations). With targets only
    matching ids are planned: the files and references are still all checked.
    Warnings go to ``warn``."""
    settings = request.settings
    desired, state = desired_and_live(
        settings.models_dir,
        request.source,
        config=settings.scope(),
        strict=request.strict,
        cache=request.cache,
    )
    return plan_from(request, desired, state, warn)


def plan_from(
    request: PlanRequest, desired: LoadResult, state: LiveState, warn: Warn | None = None
) -> Plan:
    """:func:`make_plan` for the files and the live registry ``request`` names, read
    already (``desired`` as the environment of its settings sees them)."""
    settings, source, strict = request.settings, request.source, request.strict
    scope = settings.scope()
    live = state.entries
    if warn is not None:
        print_warnings(warn, desired.warnings)
        left_out = state.warning()
        if left_out is not None:
            warn(left_out)
        ignored = settings.activation_ignored(state.api)
        if ignored:
            warn(f"warning: {ignored}")
    wrong = replace_problems(request.replace, desired.definitions, live)
    if state.api == "catalog":
        wrong += activation_problems(desired.definitions, live, settings.activate)
    if wrong:
        raise ConfigError("; ".join(wrong))
    known = {d.id for d in desired.definitions}
    # A target the plan deletes is the policy's to report (reroute-target-deleted).
    known.update(entry.id for entry in live)
    definitions = {entry.id: entry.definition for entry in live}
    graph = check_reroute_graph(desired.definitions, definitions)
    references = [*check_reroute_targets(desired.definitions, known, definitions), *graph]
    check_problems(sorted(set(references)), strict=strict, warn=warn)
    options = PlanOptions(
        prune=settings.prune,
        ignore=settings.ignore,
        replace=frozenset(request.replace),
        server_defaults=settings.server_defaults or {},
        models_dir=str(settings.models_dir).rstrip("/"),
        registry=source.describe(),
        owns=scope.owns,
        environment=scope.environment,
        api=state.api,
        inactive=settings.inactive,
        # A partial plan serves only the targeted platform names.
        activate=tuple(
            (name, source)
            for name, source in settings.activate
            if not request.targets or matches(name, request.targets)
        ),
        switch=settings.switch,
    )
    if request.targets:
        targets = request.targets
        outside = [model_id for model_id in request.replace if not matches(model_id, targets)]
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
        own_url = settings.environment_api_url
        if own_url is not None and source.registry_file is None:
            own = LiveSource(api_url=own_url, allow_insecure_http=True).describe()
            if own != computed.registry:
                computed = dataclasses.replace(computed, environment_api_url=own)
    check_problems(write_problems(computed), strict=strict, warn=warn)
    return judge(computed, request.rules, definitions)


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


def plan_errors(computed: Plan) -> list[str]:
    """The errors a plan carries, one line each (without ``error:``): its read-only
    conflicts in one line, then every other violation."""
    errors = [conflict_message(computed)] if computed.conflicts else []
    errors.extend(
        f"{violation.rule}: {violation.message}"
        for violation in computed.violations
        if violation.rule != "read-only-conflict"
    )
    return errors


def plan_exit_code(computed: Plan, *, detailed: bool) -> int:
    """1 for a violation (a read-only conflict among them); with ``detailed``, 2 when
    anything would change."""
    if computed.violations:
        return EXIT_ERROR
    if detailed and computed.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def plans_exit_code(plans: list[Plan], *, detailed: bool) -> int:
    """The exit code of several environments' plans: an error in any wins, else the
    highest."""
    codes = [plan_exit_code(computed, detailed=detailed) for computed in plans]
    return EXIT_ERROR if EXIT_ERROR in codes else max(codes)
