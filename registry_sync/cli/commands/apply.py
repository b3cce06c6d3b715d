"""``registry-sync apply``: make the live registry match models/, or a saved plan."""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from registry_sync.cli.options import (
    SourceFlags,
    api_source_options,
    cache_option,
    color_option,
    compact_option,
    config_option,
    env_option,
    given,
    live_registry,
    models_dir_option,
    policy_options,
    prune_option,
    replace_option,
    resolved,
    setting_option,
    strict_option,
    target_option,
)
from registry_sync.cli.output import Output, run_command, write_file
from registry_sync.errors import ApplyRefused, ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.settings.defaults import DEFAULT_PARALLELISM
from registry_sync.settings.resolve import Settings

if TYPE_CHECKING:
    from registry_sync.apply.applier import ApplyEvent, ApplyResult
    from registry_sync.apply.health import HealthReport
    from registry_sync.desired.parsecache import ParseCache
    from registry_sync.live.client import RegistryClient
    from registry_sync.live.sources import LiveSource
    from registry_sync.plan.policy import Rules


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@models_dir_option
@api_source_options
@config_option
@prune_option(
    "Delete mutable live entries no file declares. Not with PLAN_FILE, whose plan decides."
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking for approval.")
@replace_option
@strict_option
@click.option(
    "--parallelism",
    type=click.IntRange(1, 100),
    default=DEFAULT_PARALLELISM,
    show_default=True,
    metavar="N",
    help="How many requests run at once at most (1-100); fewer while the registry answers 429.",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="N",
    help="Start at most N requests per second (for a registry whose rate limit is known). "
    "Default: as fast as the registry allows, slowing down on 429.",
)
@policy_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json is the machine-readable result (needs --auto-approve).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the JSON result to this file (written even when apply is interrupted).",
)
@setting_option(
    "--verify-health/--no-verify-health",
    setting="verify_health",
    help="After the writes, probe every created, updated or re-created entry through the "
    "registry's health endpoint; an unhealthy one exits 4.",
)
@click.option(
    "--rollback-on-unhealthy",
    is_flag=True,
    help="Put every entry found unhealthy back as it was before this apply (an update is "
    "PATCHed back, a create deleted, a re-create restored); implies --verify-health.",
)
@target_option
@compact_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the plan and the requests apply would send (method, path, body), then "
    "stop: nothing is written, nothing is asked. Exit 0, or 1 when apply would refuse.",
)
@color_option
@env_option
@cache_option
def apply(
    plan_file: Path | None,
    models_dir: Path | None,
    source: SourceFlags,
    config_file: Path | None,
    prune: bool | None,
    auto_approve: bool,
    replace: tuple[str, ...],
    strict: bool,
    parallelism: int,
    max_rps: float | None,
    max_deletes: int | None,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
    output_format: str,
    out: Path | None,
    verify_health: bool | None,
    rollback_on_unhealthy: bool,
    targets: tuple[str, ...],
    compact: bool,
    dry_run: bool,
    color: bool | None,
    environment: str | None,
    cache: ParseCache | None,
) -> None:
    """Make the live registry match models/, or apply a saved plan (PLAN_FILE).

    Shows the plan and asks for 'yes' first; --auto-approve skips the question.
    Exit 0 when every change is done (or there is none), 1 when nothing was
    written (refused, cancelled, or every write failed), 3 when some writes
    landed and others failed, or Ctrl-C stopped a run that wrote: run apply again
    to finish. With --verify-health, 4 when every write is done but an entry
    written is unhealthy (rolled back or not: the report says), unless 3 or 1 applies.
    --dry-run: exit 0, or 1 on an error or a plan apply would refuse.
    """
    output = Output(color)

    def run() -> int:
        from registry_sync.operations.pipeline import policy_rules

        if plan_file is not None:
            mixed = [
                f"--{name.replace('_', '-')}"
                for name in ("models_dir", "prune", "replace", "strict", "targets")
                if given(name)
            ]
            if mixed:
                raise ConfigError(
                    f"{' and '.join(mixed).replace('--targets', '--target')} cannot be used "
                    "with a saved plan, which was made "
                    "with its own; plan again to change them"
                )
        settings = resolved(config_file, environment)
        if rollback_on_unhealthy and given("verify_health") and not settings.verify_health:
            raise ConfigError(
                "--rollback-on-unhealthy needs the health probes that --no-verify-health "
                "turns off; drop one of them"
            )
        return run_apply(
            output,
            plan_file=plan_file,
            settings=settings,
            source=live_registry(settings, source, output),
            rules=policy_rules(settings, allow_delete_all, allowed),
            auto_approve=auto_approve,
            parallelism=parallelism,
            max_rps=max_rps,
            output_format=output_format,
            replace=replace,
            strict=strict,
            out=out,
            verify_health=settings.verify_health or rollback_on_unhealthy,
            rollback=rollback_on_unhealthy,
            targets=targets,
            compact=compact,
            dry_run=dry_run,
            cache=cache,
        )

    run_command(output, run)


def run_apply(
    output: Output,
    *,
    plan_file: Path | None,
    settings: Settings,
    source: LiveSource,
    rules: Rules,
    auto_approve: bool,
    parallelism: int,
    output_format: str,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    out: Path | None = None,
    max_rps: float | None = None,
    verify_health: bool = False,
    rollback: bool = False,
    targets: tuple[str, ...] = (),
    compact: bool = False,
    dry_run: bool = False,
    cache: ParseCache | None = None,
) -> int:
    """Plan (or read the saved plan), show it, ask, apply, (with ``verify_health``)
    probe what was written and (with ``rollback``) put back what is unhealthy, report;
    returns the exit code. With ``dry_run``, show the requests apply would send
    instead of asking."""
    from registry_sync.apply.applier import ApplyResult, apply_plan
    from registry_sync.apply.health import HealthReport
    from registry_sync.apply.preflight import refusal
    from registry_sync.live.sources import fetch_live, open_client
    from registry_sync.operations.pipeline import plan_for
    from registry_sync.plan.planfile import read_plan
    from registry_sync.plan.policy import judge
    from registry_sync.plan.targeting import matches
    from registry_sync.render.requests import render_requests
    from registry_sync.render.result import render_result_json
    from registry_sync.render.text import render_text

    if dry_run and output_format != "text":
        raise ConfigError(
            "--dry-run prints text; for the plan as JSON (bodies and patches included) "
            "run plan --format json"
        )
    if plan_file is not None:
        # Never trust a saved judgement: judge the plan again, against the registry now.
        saved = read_plan(plan_file, registry=source.describe(), environment=settings.environment)
        live = fetch_live(source, source.api_key())
        if saved.partial:
            # Counted again from the registry now, never taken from the file.
            untargeted = sum(
                1 for e in live if not e.immutable and not matches(e.id, saved.targets)
            )
            saved = dataclasses.replace(saved, untargeted=untargeted)
        computed = judge(saved, rules, {entry.id: entry.definition for entry in live})
    else:
        computed = plan_for(
            settings,
            source,
            rules=rules,
            replace=replace,
            strict=strict,
            warn=output.err,
            targets=targets,
            cache=cache,
        )
    if output_format == "text":
        output.out(render_text(computed, color=output.color, compact=compact), nl=False)
    if computed.violations:
        raise refusal(
            [violation.message for violation in computed.violations],
            "Change models/, registry-sync.yaml or the flags, then plan again.",
        )
    if dry_run:
        output.out("")
        output.out(render_requests(computed), nl=False)
        return EXIT_OK
    if not computed.writes:
        nothing = ApplyResult(computed.registry)
        checked = HealthReport() if verify_health else None
        if out is not None:
            write_file(out, render_result_json(nothing, checked))
        if output_format == "json":
            output.out(render_result_json(nothing, checked), nl=False)
        return EXIT_OK
    if not auto_approve:
        if output_format == "json":
            raise ApplyRefused(
                "--format json shows no plan to approve: pass --auto-approve (after "
                "reviewing the plan, e.g. a saved one). Nothing was written."
            )
        if not _stdin_is_terminal():
            raise ApplyRefused(
                "no terminal to ask for approval: run apply in a terminal and answer "
                "'yes', or pass --auto-approve where the plan was approved otherwise "
                "(a reviewed saved plan, a protected CI environment). Nothing was written."
            )
        answer = output.ask("Apply these changes? Only 'yes' will be accepted:")
        if answer.strip() != "yes":
            output.err("Apply cancelled: nothing was written.")
            return EXIT_ERROR
    with open_client(source, source.api_key(), connections=parallelism) as client:
        result = apply_plan(
            computed,
            client,
            parallelism=parallelism,
            max_rps=max_rps,
            ignore=settings.ignore,
            server_defaults=settings.server_defaults,
            on_event=_progress(output),
        )
        health = _verify(output, result, client, rollback, parallelism) if verify_health else None
    return _report(output, result, output_format, out, health)


def _verify(
    output: Output, result: ApplyResult, client: RegistryClient, rollback: bool, parallelism: int
) -> HealthReport | None:
    """Probe (and roll back); None when apply or the probes were interrupted."""
    if result.interrupted:
        output.err("note: apply was interrupted: the health of what it wrote was not probed")
        return None
    from registry_sync.apply.health import verify_apply

    output.err("Probing the health of the entries written...")
    try:
        return verify_apply(result, client, rollback=rollback, parallelism=parallelism)
    except KeyboardInterrupt:
        output.err(
            "note: health probes interrupted (Ctrl-C): nothing was rolled back; run "
            "`registry-sync health` to see"
        )
        return None


def _report(
    output: Output,
    result: ApplyResult,
    output_format: str,
    out: Path | None,
    health: HealthReport | None = None,
) -> int:
    """Print (and with ``out`` save) the result; returns the exit code. Ctrl-C cannot
    cut it short: what landed must always be reported."""
    from registry_sync.operations.pipeline import apply_exit_code
    from registry_sync.render.result import render_result_json, render_result_text

    previous = _ignore_interrupts()
    try:
        if out is not None:
            write_file(out, render_result_json(result, health))
        if output_format == "json":
            output.out(render_result_json(result, health), nl=False)
        else:
            output.out(render_result_text(result, color=output.color, health=health), nl=False)
    finally:
        _restore_interrupts(previous)
    return apply_exit_code(result, health)


def _ignore_interrupts() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_interrupts(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _progress(output: Output) -> Callable[[ApplyEvent], None]:
    """Progress on stderr: counts, and the rate once a run has lasted two seconds."""
    from registry_sync.apply.applier import Throttled

    def report(event: ApplyEvent) -> None:
        if isinstance(event, Throttled):
            pace = "" if event.rate is None else f", at most {event.rate:.1f} requests/s"
            output.err(
                "note: the registry keeps rate limiting; going on with "
                f"{event.parallelism} at a time{pace}"
            )
            return
        if event.result.restore is not None:
            # At once, not only in the final report: a run cut short must not lose it.
            output.err(f"error: {event.result.detail}")
            output.err("Definition to restore:")
            output.err(json.dumps(dict(event.result.restore), indent=2, ensure_ascii=False))
        # About 20 lines however long the run.
        step = math.ceil(event.total / 20)
        if event.done % step == 0 or event.done == event.total:
            rate = "" if event.rate is None else f" ({event.rate:.0f} writes/s)"
            output.err(f"Applying: {event.done}/{event.total}{rate}")

    return report


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
