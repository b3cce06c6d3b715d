"""``registry-sync apply``: make the live registry match models/, or a saved plan."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from registry_sync.applier import (
    DEFAULT_PARALLELISM,
    ApplyEvent,
    ApplyResult,
    Throttled,
    apply_plan,
)
from registry_sync.cli.options import (
    api_source_options,
    cache_option,
    color_option,
    config_option,
    given,
    given_names,
    models_dir_option,
    policy_options,
    replace_option,
    strict_option,
)
from registry_sync.cli.output import Output, run_command, warn_insecure, write_file
from registry_sync.errors import ApplyRefused, ConfigError
from registry_sync.parsecache import ParseCache
from registry_sync.pipeline import (
    EXIT_ERROR,
    EXIT_OK,
    Settings,
    apply_exit_code,
    compute_plan,
    configured,
    policy_rules,
)
from registry_sync.planfile import read_plan
from registry_sync.policy import Rules, judge
from registry_sync.preflight import refusal
from registry_sync.render.result import render_result_json, render_result_text
from registry_sync.render.text import render_text
from registry_sync.state import API_KEY_VARIABLE, LiveSource, fetch_live, open_client


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@models_dir_option
@api_source_options
@config_option
@click.option(
    "--prune/--no-prune",
    default=False,
    help="Delete mutable live entries no file declares (default: prune in "
    "registry-sync.yaml, else off). Not with PLAN_FILE, whose plan decides.",
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
@color_option
@cache_option
def apply(
    plan_file: Path | None,
    models_dir: Path,
    source: LiveSource,
    config_file: Path | None,
    prune: bool,
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
    color: bool | None,
    cache: ParseCache | None,
) -> None:
    """Make the live registry match models/, or apply a saved plan (PLAN_FILE).

    Shows the plan and asks for 'yes' first; --auto-approve skips the question.
    Exit 0 when every change is done (or there is none), 1 when nothing was
    written (refused, cancelled, or every write failed), 3 when some writes
    landed and others failed, or Ctrl-C stopped a run that wrote: run apply again
    to finish.
    """
    output = Output(color)

    def run() -> int:
        if plan_file is not None:
            mixed = [
                f"--{name.replace('_', '-')}"
                for name in ("models_dir", "prune", "replace", "strict")
                if given(name)
            ]
            if mixed:
                raise ConfigError(
                    f"{' and '.join(mixed)} cannot be used with a saved plan, which was made "
                    "with its own; plan again to change them"
                )
        settings = configured(config_file, models_dir, source, prune, given_names())
        warn_insecure(settings.source, output)
        return run_apply(
            output,
            plan_file=plan_file,
            settings=settings,
            rules=policy_rules(settings.config, max_deletes, allow_delete_all, allowed),
            auto_approve=auto_approve,
            parallelism=parallelism,
            max_rps=max_rps,
            output_format=output_format,
            replace=replace,
            strict=strict,
            out=out,
            cache=cache,
        )

    run_command(output, run)


def run_apply(
    output: Output,
    *,
    plan_file: Path | None,
    settings: Settings,
    rules: Rules,
    auto_approve: bool,
    parallelism: int,
    output_format: str,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    out: Path | None = None,
    max_rps: float | None = None,
    cache: ParseCache | None = None,
) -> int:
    """Plan (or read the saved plan), show it, ask, apply, report; returns the exit code."""
    source = settings.source
    if plan_file is not None:
        # Never trust a saved judgement: judge the plan again, against the registry now.
        saved = read_plan(plan_file, registry=source.describe())
        live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
        computed = judge(saved, rules, {entry.id: entry.definition for entry in live})
    else:
        computed = compute_plan(
            settings.models_dir,
            source,
            prune=settings.prune,
            ignore=settings.config.ignore,
            server_defaults=settings.config.server_defaults,
            replace=replace,
            strict=strict,
            warn=output.err,
            rules=rules,
            cache=cache,
        )
    if output_format == "text":
        output.out(render_text(computed, color=output.color), nl=False)
    if computed.violations:
        raise refusal(
            [violation.message for violation in computed.violations],
            "Change models/, registry-sync.yaml or the flags, then plan again.",
        )
    if not computed.writes:
        nothing = ApplyResult(computed.registry)
        if out is not None:
            write_file(out, render_result_json(nothing))
        if output_format == "json":
            output.out(render_result_json(nothing), nl=False)
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
    with open_client(source, os.environ.get(API_KEY_VARIABLE), connections=parallelism) as client:
        result = apply_plan(
            computed,
            client,
            parallelism=parallelism,
            max_rps=max_rps,
            ignore=settings.config.ignore,
            server_defaults=settings.config.server_defaults,
            on_event=_progress(output),
        )
    return _report(output, result, output_format, out)


def _report(output: Output, result: ApplyResult, output_format: str, out: Path | None) -> int:
    """Print (and with ``out`` save) the result; returns the exit code. Ctrl-C cannot
    cut it short: what landed must always be reported."""
    previous = _ignore_interrupts()
    try:
        if out is not None:
            write_file(out, render_result_json(result))
        if output_format == "json":
            output.out(render_result_json(result), nl=False)
        else:
            output.out(render_result_text(result, color=output.color), nl=False)
    finally:
        _restore_interrupts(previous)
    return apply_exit_code(result)


def _ignore_interrupts() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_interrupts(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _progress(output: Output) -> Callable[[ApplyEvent], None]:
    """Progress on stderr: counts, and the rate once a run has lasted two seconds."""

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
