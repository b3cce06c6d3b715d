"""``registry-sync plan``: how the live registry differs from models/."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import (
    cache_option,
    color_option,
    config_option,
    given_names,
    live_source_options,
    models_dir_option,
    policy_options,
    replace_option,
    strict_option,
)
from registry_sync.cli.output import Output, run_command, warn_insecure, write_file
from registry_sync.parsecache import ParseCache
from registry_sync.pipeline import (
    Settings,
    compute_plan,
    configured,
    conflict_message,
    plan_exit_code,
    policy_rules,
)
from registry_sync.policy import Rules
from registry_sync.render.json import render_json
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text
from registry_sync.state import LiveSource


@click.command()
@models_dir_option
@live_source_options
@config_option
@click.option(
    "--prune/--no-prune",
    default=False,
    help="Plan to delete mutable live entries no file declares (default: prune in "
    "registry-sync.yaml, else off).",
)
@policy_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people; json is the versioned plan document (see README); markdown "
    "is a pull-request comment.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the JSON plan to this file.",
)
@click.option(
    "--artifact-hint",
    default=None,
    help="With --format markdown: Markdown naming where the full plan is, shown when the "
    "comment is cut to its size limit (e.g. the workflow run's artifact).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 1 on error, 2 when changes are present.",
)
@color_option
@replace_option
@strict_option
@cache_option
def plan(
    models_dir: Path,
    source: LiveSource,
    config_file: Path | None,
    prune: bool,
    output_format: str,
    out: Path | None,
    artifact_hint: str | None,
    detailed_exitcode: bool,
    color: bool | None,
    replace: tuple[str, ...],
    strict: bool,
    max_deletes: int | None,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
    cache: ParseCache | None,
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or when apply would refuse the plan (a read-only
    conflict or another policy violation). With --detailed-exitcode: 0 no changes,
    1 error or violation, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        settings = configured(config_file, models_dir, source, prune, given_names())
        warn_insecure(settings.source, output)
        return run_plan(
            output,
            settings=settings,
            rules=policy_rules(settings.config, max_deletes, allow_delete_all, allowed),
            output_format=output_format,
            out=out,
            artifact_hint=artifact_hint,
            detailed_exitcode=detailed_exitcode,
            replace=replace,
            strict=strict,
            cache=cache,
        )

    run_command(output, run)


def run_plan(
    output: Output,
    *,
    settings: Settings,
    rules: Rules,
    output_format: str,
    out: Path | None = None,
    artifact_hint: str | None = None,
    detailed_exitcode: bool = False,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    cache: ParseCache | None = None,
) -> int:
    """Plan, print the plan and its violations; returns the exit code."""
    computed = compute_plan(
        settings.models_dir,
        settings.source,
        prune=settings.prune,
        ignore=settings.config.ignore,
        server_defaults=settings.config.server_defaults,
        replace=replace,
        strict=strict,
        warn=output.err,
        rules=rules,
        cache=cache,
    )
    if out is not None:
        write_file(out, render_json(computed))
    if output_format == "json":
        output.out(render_json(computed), nl=False)
    elif output_format == "markdown":
        output.out(render_markdown(computed, artifact_hint=artifact_hint), nl=False)
    else:
        output.out(render_text(computed, color=output.color), nl=False)
    if computed.conflicts:
        output.err(f"error: {conflict_message(computed)}")
    for violation in computed.violations:
        if violation.rule != "read-only-conflict":
            output.err(f"error: {violation.rule}: {violation.message}")
    return plan_exit_code(computed, detailed=detailed_exitcode)
