"""``registry-sync plan``: how the live registry differs from models/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    SourceFlags,
    color_option,
    compact_option,
    config_option,
    live_source_options,
    models_dir_option,
    policy_options,
    prune_option,
    replace_option,
    resolved,
    strict_option,
    target_option,
)
from registry_sync.cli.output import Output, run_command, warn_insecure, write_file
from registry_sync.settings import Settings

if TYPE_CHECKING:
    from registry_sync.policy import Rules
    from registry_sync.state import LiveSource


@click.command()
@models_dir_option
@live_source_options
@config_option
@prune_option("Plan to delete mutable live entries no file declares.")
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
@target_option
@compact_option
@strict_option
def plan(
    models_dir: Path | None,
    source: SourceFlags,
    config_file: Path | None,
    prune: bool | None,
    output_format: str,
    out: Path | None,
    artifact_hint: str | None,
    detailed_exitcode: bool,
    color: bool | None,
    replace: tuple[str, ...],
    targets: tuple[str, ...],
    compact: bool,
    strict: bool,
    max_deletes: int | None,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or when apply would refuse the plan (a read-only
    conflict or another policy violation). With --detailed-exitcode: 0 no changes,
    1 error or violation, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        from registry_sync.pipeline import live_source, policy_rules

        settings = resolved(config_file)
        live = live_source(
            settings,
            registry_file=source.registry_file,
            allow_insecure_http=source.allow_insecure_http,
        )
        warn_insecure(live, output)
        return run_plan(
            output,
            settings=settings,
            source=live,
            rules=policy_rules(settings, allow_delete_all, allowed),
            output_format=output_format,
            out=out,
            artifact_hint=artifact_hint,
            detailed_exitcode=detailed_exitcode,
            replace=replace,
            strict=strict,
            targets=targets,
            compact=compact,
        )

    run_command(output, run)


def run_plan(
    output: Output,
    *,
    settings: Settings,
    source: LiveSource,
    rules: Rules,
    output_format: str,
    out: Path | None = None,
    artifact_hint: str | None = None,
    detailed_exitcode: bool = False,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    targets: tuple[str, ...] = (),
    compact: bool = False,
) -> int:
    """Plan, print the plan and its violations; returns the exit code."""
    from registry_sync.pipeline import compute_plan, conflict_message, plan_exit_code
    from registry_sync.render.json import render_json
    from registry_sync.render.markdown import render_markdown
    from registry_sync.render.text import render_text

    computed = compute_plan(
        settings.models_dir,
        source,
        prune=settings.prune,
        ignore=settings.ignore,
        server_defaults=settings.server_defaults,
        replace=replace,
        strict=strict,
        warn=output.err,
        rules=rules,
        targets=targets,
    )
    if out is not None:
        write_file(out, render_json(computed))
    if output_format == "json":
        output.out(render_json(computed), nl=False)
    elif output_format == "markdown":
        output.out(render_markdown(computed, artifact_hint=artifact_hint), nl=False)
    else:
        output.out(render_text(computed, color=output.color, compact=compact), nl=False)
    if computed.conflicts:
        output.err(f"error: {conflict_message(computed)}")
    for violation in computed.violations:
        if violation.rule != "read-only-conflict":
            output.err(f"error: {violation.rule}: {violation.message}")
    return plan_exit_code(computed, detailed=detailed_exitcode)
