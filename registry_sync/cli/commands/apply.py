"""``registry-sync apply``: make the live registry match models/, or a saved plan."""

from __future__ import annotations

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
    models_dir_option,
    plan_request,
    policy_options,
    prune_option,
    replace_option,
    resolved,
    setting_option,
    strict_option,
    target_option,
)
from registry_sync.cli.output import Output, run_command, write_file
from registry_sync.cli.progress import ProgressLine, wants_progress
from registry_sync.errors import ApplyRefused, ConfigError
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.settings.defaults import DEFAULT_PARALLELISM

if TYPE_CHECKING:
    from registry_sync.apply.applier import ApplyEvent
    from registry_sync.operations.apply import ApplyOutcome, ApplyRequest
    from registry_sync.render.formats import View

__all__ = ["apply", "run_apply"]


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@models_dir_option
@api_source_options
@config_option
@prune_option(
    "Delete mutable live entries no file declares. Not with PLAN_FILE, whose plan decides."
)
@click.option(
    "--auto-approve",
    is_flag=True,
    help="Apply without asking for approval (a saved plan is never asked about: its review "
    "was the approval).",
)
@click.option(
    "--interactive",
    is_flag=True,
    help="Ask for 'yes' before applying a saved plan (PLAN_FILE) too; without PLAN_FILE "
    "apply always asks unless --auto-approve.",
)
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
    interactive: bool,
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
    use_cache: bool,
) -> None:
    """Make the live registry match models/, or apply a saved plan (PLAN_FILE).

    Shows the plan and asks for 'yes' first; --auto-approve skips the question. A
    saved plan is applied without asking (it was reviewed: that was the approval),
    also without a terminal; --interactive asks. A saved plan whose every write the
    registry already holds says "already applied" and exits 0.
    Exit 0 when every change is done (or there is none), 1 when nothing was
    written (refused, cancelled, or every write failed), 3 when some writes
    landed and others failed, or Ctrl-C stopped a run that wrote: run apply again
    to finish. With --verify-health, 4 when every write is done but an entry
    written is unhealthy (rolled back or not: the report says), unless 3 or 1 applies.
    --dry-run: exit 0, or 1 on an error or a plan apply would refuse.
    """
    output = Output(color)

    def run() -> int:
        from registry_sync.operations.apply import ApplyRequest
        from registry_sync.render.formats import View

        if interactive and auto_approve:
            raise ConfigError("--interactive asks, --auto-approve does not: drop one of them")
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
        planning = plan_request(
            settings,
            source,
            output,
            allow_delete_all=allow_delete_all,
            allowed=allowed,
            replace=replace,
            strict=strict,
            targets=targets,
            use_cache=use_cache,
        )
        request = ApplyRequest(
            plan=planning,
            plan_file=plan_file,
            parallelism=parallelism,
            max_rps=max_rps,
            verify_health=settings.verify_health or rollback_on_unhealthy,
            rollback=rollback_on_unhealthy,
        )
        view = View(color=output.color, compact=compact)
        return run_apply(
            output,
            request,
            output_format=output_format,
            view=view,
            # The review of a saved plan was its approval, as in terraform.
            auto_approve=auto_approve or (plan_file is not None and not interactive),
            out=out,
            dry_run=dry_run,
        )

    run_command(output, run)


def run_apply(
    output: Output,
    request: ApplyRequest,
    *,
    output_format: str,
    view: View,
    auto_approve: bool,
    out: Path | None = None,
    dry_run: bool = False,
) -> int:
    """Plan (or read the saved plan), show it, ask, apply, (as the request says) probe
    what was written and put back what is unhealthy, report; returns the exit code.
    With ``dry_run``, show the requests apply would send instead of asking."""
    from registry_sync.operations.apply import (
        check_approvable,
        dry_run_apply,
        execute_apply,
        nothing_to_apply,
        prepare_apply,
    )
    from registry_sync.render.formats import PLAN_FORMATS
    from registry_sync.render.requests import render_requests

    if dry_run and output_format != "text":
        raise ConfigError(
            "--dry-run prints text; for the plan as JSON (bodies and patches included) "
            "run plan --format json"
        )
    computed = prepare_apply(request, output.err)
    if output_format == "text":
        output.out(PLAN_FORMATS["text"](computed, view), nl=False)
    check_approvable(computed)
    if dry_run:
        # The checks apply runs before its first write, so a dry run refuses (exit 1)
        # what apply would refuse.
        pending = not computed.writes or dry_run_apply(computed, request)
        output.out("")
        output.out(render_requests(computed, already_applied=not pending), nl=False)
        return EXIT_OK
    if not computed.writes:
        _save_and_print(
            output, nothing_to_apply(computed, request), output_format, view, out, text=False
        )
        return EXIT_OK
    if not auto_approve:
        if output_format == "json":
            raise ApplyRefused(
                "--format json shows no plan to approve: pass --auto-approve (after "
                "reviewing the plan), or apply a reviewed saved plan without --interactive. "
                "Nothing was written."
            )
        if not _stdin_is_terminal():
            raise ApplyRefused(
                "no terminal to ask for approval: run apply in a terminal and answer "
                "'yes', apply a reviewed saved plan (`plan --out FILE`, then `apply FILE`, "
                "which does not ask), or pass --auto-approve where the plan was approved "
                "otherwise (a protected CI environment). Nothing was written."
            )
        answer = output.ask("Apply these changes? Only 'yes' will be accepted:")
        if answer.strip() != "yes":
            output.err("Apply cancelled: nothing was written.")
            return EXIT_ERROR
    with ProgressLine("Applying", "writes", enabled=wants_progress(output_format)) as line:
        outcome = execute_apply(computed, request, on_event=_progress(line), note=line.note)
    return _report(output, outcome, output_format, view, out)


def _report(
    output: Output, outcome: ApplyOutcome, output_format: str, view: View, out: Path | None
) -> int:
    """Print (and with ``out`` save) the result; returns the exit code. Ctrl-C cannot
    cut it short: what landed must always be reported."""
    from registry_sync.operations.apply import apply_exit_code

    previous = _ignore_interrupts()
    try:
        _save_and_print(output, outcome, output_format, view, out, text=True)
    finally:
        _restore_interrupts(previous)
    return apply_exit_code(outcome.result, outcome.health)


def _save_and_print(
    output: Output,
    outcome: ApplyOutcome,
    output_format: str,
    view: View,
    out: Path | None,
    *,
    text: bool,
) -> None:
    """Save the JSON result to ``out`` (if given) and print it in ``output_format``;
    the text report only when ``text`` (a run without writes has shown its plan)."""
    from registry_sync.render.result import RESULT_FORMATS, render_result_json

    if out is not None:
        write_file(out, render_result_json(outcome.result, outcome.health))
    if output_format != "text" or text:
        output.out(RESULT_FORMATS[output_format](outcome.result, outcome.health, view), nl=False)


def _ignore_interrupts() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_interrupts(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _progress(line: ProgressLine) -> Callable[[ApplyEvent], None]:
    """Progress on stderr: the count on ``line`` (a terminal's), and the notes
    :func:`registry_sync.render.progress.progress_lines` gives (above it, if it is up)."""
    from registry_sync.render.progress import progress_count, progress_lines

    failed = 0

    def report(event: ApplyEvent) -> None:
        nonlocal failed
        for text in progress_lines(event):
            line.note(text)
        count = progress_count(event)
        if count is not None:
            done, total, this_failed = count
            failed += this_failed
            line.update(done, total, failed)

    return report


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
