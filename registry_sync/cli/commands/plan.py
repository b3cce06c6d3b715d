"""``registry-sync plan``: how the live registry differs from models/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    SourceFlags,
    cache_option,
    color_option,
    compact_option,
    config_option,
    envs_option,
    live_source_options,
    models_dir_option,
    plan_request,
    policy_options,
    prune_option,
    replace_option,
    resolved,
    strict_option,
    target_option,
)
from registry_sync.cli.output import Output, run_command, write_file
from registry_sync.errors import ConfigError

if TYPE_CHECKING:
    from registry_sync.operations.plan import PlanRequest
    from registry_sync.render.formats import View

__all__ = ["plan", "print_plans", "run_plan"]


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
    help="text for people; json is the versioned plan document (registry-sync docs json); markdown "
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
@envs_option
@cache_option
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
    environments: tuple[str, ...],
    use_cache: bool,
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or when apply would refuse the plan (a read-only
    conflict or another policy violation). With --detailed-exitcode: 0 no changes,
    1 error or violation, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        from registry_sync.operations.inputs import environment_names
        from registry_sync.render.formats import View

        def request(environment: str | None) -> PlanRequest:
            return plan_request(
                resolved(config_file, environment),
                source,
                output,
                allow_delete_all=allow_delete_all,
                allowed=allowed,
                replace=replace,
                strict=strict,
                targets=targets,
                use_cache=use_cache,
            )

        view = View(color=output.color, compact=compact, artifact_hint=artifact_hint)
        names = environment_names(config_file, environments)
        if len(names) > 1:
            if out is not None:
                raise ConfigError(
                    "--out saves one environment's plan, for apply: run plan --env NAME "
                    "--out FILE for each environment"
                )
            return print_plans(
                output, [request(name) for name in names], output_format, view, detailed_exitcode
            )
        return run_plan(
            output,
            request(names[0] if names else None),
            output_format,
            view,
            out,
            detailed_exitcode,
        )

    run_command(output, run)


def print_plans(
    output: Output,
    requests: list[PlanRequest],
    output_format: str,
    view: View,
    detailed_exitcode: bool,
) -> int:
    """Plan several environments, print their plans as one; the exit code covers them all."""
    from registry_sync.operations.plan import make_plan, plan_errors, plans_exit_code
    from registry_sync.render.formats import ENVIRONMENTS_FORMATS

    plans = [make_plan(request, output.err) for request in requests]
    output.out(ENVIRONMENTS_FORMATS[output_format](plans, view), nl=False)
    for computed in plans:
        for error in plan_errors(computed):
            output.err(f"error: {computed.environment}: {error}")
    return plans_exit_code(plans, detailed=detailed_exitcode)


def run_plan(
    output: Output,
    request: PlanRequest,
    output_format: str,
    view: View,
    out: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Plan, print the plan and its violations; returns the exit code."""
    from registry_sync.operations.plan import make_plan, plan_errors, plan_exit_code
    from registry_sync.render.formats import PLAN_FORMATS

    computed = make_plan(request, output.err)
    if out is not None:
        write_file(out, PLAN_FORMATS["json"](computed, view))
    output.out(PLAN_FORMATS[output_format](computed, view), nl=False)
    for error in plan_errors(computed):
        output.err(f"error: {error}")
    return plan_exit_code(computed, detailed=detailed_exitcode)
