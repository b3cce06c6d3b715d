"""``apply``: a plan made now or read from a saved file, judged again, then carried
out through the client, probed and (on request) rolled back. The terminal prompt is
the CLI's: it asks between :func:`prepare_apply` and :func:`execute_apply`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry_sync.apply.applier import (
    ApplyEvent,
    ApplyResult,
    apply_plan,
    check_before_writing,
)
from registry_sync.apply.health import HealthReport, verify_apply
from registry_sync.apply.preflight import refusal
from registry_sync.desired.checks import Warn
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_UNHEALTHY
from registry_sync.live.client import RegistryClient
from registry_sync.live.sources import fetch_live, open_client
from registry_sync.operations.plan import PlanRequest, make_plan
from registry_sync.plan.model import Plan
from registry_sync.plan.planfile import check_generation, read_plan
from registry_sync.plan.policy import judge
from registry_sync.plan.targeting import matches
from registry_sync.schema.generations import check_api
from registry_sync.settings.defaults import DEFAULT_PARALLELISM

__all__ = [
    "ApplyOutcome",
    "ApplyRequest",
    "apply_exit_code",
    "check_approvable",
    "dry_run_apply",
    "execute_apply",
    "nothing_to_apply",
    "prepare_apply",
]


@dataclass(frozen=True)
class ApplyRequest:
    """What apply is asked to do: plan as ``plan`` says, or carry out the saved plan
    ``plan_file`` (judged again by the same rules, against the registry now); how fast;
    and whether to probe (and roll back) what it wrote."""

    plan: PlanRequest
    plan_file: Path | None = None
    parallelism: int = DEFAULT_PARALLELISM
    max_rps: float | None = None
    verify_health: bool = False
    rollback: bool = False


@dataclass(frozen=True)
class ApplyOutcome:
    """What apply did (``result``) and what the probes found (None when not probed)."""

    result: ApplyResult
    health: HealthReport | None = None


def prepare_apply(request: ApplyRequest, warn: Warn | None = None) -> Plan:
    """The plan to apply, judged: the saved one (never trusting its saved judgement:
    judged again, against the registry now) or one made now."""
    planning = request.plan
    if request.plan_file is None:
        return make_plan(planning, warn)
    source = planning.source
    saved = read_plan(
        request.plan_file,
        registry=source.describe(),
        environment=planning.settings.environment,
    )
    state = fetch_live(source, source.api_key())
    left_out = state.warning()
    if warn is not None and left_out is not None:
        warn(left_out)
    check_generation(saved, state.api, request.plan_file)
    live = state.entries
    if saved.partial:
        # Counted again from the registry now, never taken from the file.
        untargeted = sum(1 for e in live if not e.immutable and not matches(e.id, saved.targets))
        saved = dataclasses.replace(saved, untargeted=untargeted)
    return judge(saved, planning.rules, {entry.id: entry.definition for entry in live})


def check_approvable(computed: Plan) -> None:
    """Raise :class:`ApplyRefused` naming every violation when apply must refuse."""
    if computed.violations:
        raise refusal(
            [violation.message for violation in computed.violations],
            "Change models/, registry-sync.yaml or the flags, then plan again.",
        )


def nothing_to_apply(computed: Plan, request: ApplyRequest) -> ApplyOutcome:
    """The outcome of a plan without writes: nothing done, nothing to probe."""
    return ApplyOutcome(
        ApplyResult(computed.registry), HealthReport() if request.verify_health else None
    )


def dry_run_apply(computed: Plan, request: ApplyRequest) -> bool:
    """Every check apply runs before its first write (:func:`check_before_writing`:
    a stale plan, an edited patch or body, ids no request can carry, read-only
    conflicts), with one read of the registry and no write. Raises
    :class:`~registry_sync.errors.ApplyRefused` where apply would refuse; returns
    False when the registry already holds every write (apply would send nothing)."""
    settings = request.plan.settings
    source = dataclasses.replace(request.plan.source, api=check_api(computed.api))
    with open_client(source, source.api_key(), connections=1) as client:
        return check_before_writing(
            computed,
            client,
            ignore=settings.ignore,
            server_defaults=settings.server_defaults,
        )


def execute_apply(
    computed: Plan,
    request: ApplyRequest,
    *,
    on_event: Callable[[ApplyEvent], None] | None = None,
    note: Warn | None = None,
) -> ApplyOutcome:
    """Carry out the writes of ``computed`` (progress to ``on_event``), then, when the
    request says so, probe what was written and roll back what is unhealthy. Notes
    about probes skipped or cut short go to ``note``."""
    settings = request.plan.settings
    # The generation the plan was made for: the registry is not asked again.
    source = dataclasses.replace(request.plan.source, api=check_api(computed.api))
    with open_client(source, source.api_key(), connections=request.parallelism) as client:
        result = apply_plan(
            computed,
            client,
            parallelism=request.parallelism,
            max_rps=request.max_rps,
            ignore=settings.ignore,
            server_defaults=settings.server_defaults,
            on_event=on_event,
        )
        health = _verify(result, client, request, note) if request.verify_health else None
    return ApplyOutcome(result, health)


def _verify(
    result: ApplyResult, client: RegistryClient, request: ApplyRequest, note: Warn | None
) -> HealthReport | None:
    """Probe (and roll back); None when apply or the probes were interrupted."""
    say = note or (lambda _text: None)
    if result.interrupted:
        say("note: apply was interrupted: the health of what it wrote was not probed")
        return None
    say("Probing the health of the entries written...")
    try:
        return verify_apply(
            result, client, rollback=request.rollback, parallelism=request.parallelism
        )
    except KeyboardInterrupt:
        say(
            "note: health probes interrupted (Ctrl-C): nothing was rolled back; run "
            "`registry-sync health` to see"
        )
        return None


def apply_exit_code(result: ApplyResult, health: HealthReport | None = None) -> int:
    """0 when every write is done, 3 when some landed and others did not (or a run
    that wrote was interrupted), else 1; a run whose writes are all done but left an
    entry unhealthy (``health``, from ``--verify-health``) is 4."""
    if result.interrupted and result.wrote:
        return EXIT_PARTIAL
    if result.complete:
        return EXIT_UNHEALTHY if health is not None and health.unhealthy else EXIT_OK
    return EXIT_PARTIAL if result.wrote else EXIT_ERROR
