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
    live_registry,
    live_source_options,
    models_dir_option,
    policy_options,
    prune_option,
    replace_option,
    resolved,
    strict_option,
    target_option,
)
from registry_sync.cli.output import Output, run_command, write_file
from registry_sync.errors import ConfigError
from registry_sync.settings.resolve import Settings

if TYPE_CHECKING:
    from registry_sync.desired.parsecache import ParseCache
    from registry_sync.live.sources import LiveSource
    from registry_sync.plan.model import Plan
    from registry_sync.plan.policy import Rules


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
    help="text for people; json is the versioned plan document (see docs/json.md); markdown "
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
    cache: ParseCache | None,
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or when apply would refuse the plan (a read-only
    conflict or another policy violation). With --detailed-exitcode: 0 no changes,
    1 error or violation, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        from registry_sync.operations.pipeline import plan_for, policy_rules

        names = environment_names(config_file, environments)
        if len(names) > 1:
            if out is not None:
                raise ConfigError(
                    "--out saves one environment's plan, for apply: run plan --env NAME "
                    "--out FILE for each environment"
                )
            plans = []
            for name in names:
                settings = resolved(config_file, name)
                plans.append(
                    plan_for(
                        settings,
                        live_registry(settings, source, output),
                        rules=policy_rules(settings, allow_delete_all, allowed),
                        replace=replace,
                        strict=strict,
                        warn=output.err,
                        targets=targets,
                        cache=cache,
                    )
                )
            return print_plans(
                output, plans, output_format, artifact_hint, detailed_exitcode, compact=compact
            )
        settings = resolved(config_file, names[0] if names else None)
        return run_plan(
            output,
            settings=settings,
            source=live_registry(settings, source, output),
            rules=policy_rules(settings, allow_delete_all, allowed),
            output_format=output_format,
            out=out,
            artifact_hint=artifact_hint,
            detailed_exitcode=detailed_exitcode,
            replace=replace,
            strict=strict,
            targets=targets,
            compact=compact,
            cache=cache,
        )

    run_command(output, run)


def environment_names(config_file: Path | None, given: tuple[str, ...]) -> list[str]:
    """The environments ``--env`` names, in the order given; ``all`` is every one of
    registry-sync.yaml, in its order. Unknown names are reported when selected."""
    from registry_sync.settings.config import CONFIG_FILE, project_config

    names: list[str] = []
    for name in given:
        if name == "all":
            config = project_config(config_file)
            if not config.environments:
                raise ConfigError(
                    f"--env all: {config.file or CONFIG_FILE} declares no environments; add "
                    "an 'environments:' mapping, or leave --env out"
                )
            found = list(config.environments)
        else:
            found = [name]
        names.extend(item for item in found if item not in names)
    return names


def print_plans(
    output: Output,
    plans: list[Plan],
    output_format: str,
    artifact_hint: str | None,
    detailed_exitcode: bool,
    *,
    compact: bool = False,
) -> int:
    """Print several environments' plans as one; the exit code covers them all."""
    from registry_sync.exitcodes import EXIT_ERROR
    from registry_sync.operations.pipeline import conflict_message, plan_exit_code
    from registry_sync.render.environments import (
        render_environments_json,
        render_environments_markdown,
        render_environments_text,
    )

    if output_format == "json":
        output.out(render_environments_json(plans), nl=False)
    elif output_format == "markdown":
        output.out(render_environments_markdown(plans, artifact_hint=artifact_hint), nl=False)
    else:
        output.out(render_environments_text(plans, color=output.color, compact=compact), nl=False)
    for computed in plans:
        if computed.conflicts:
            output.err(f"error: {computed.environment}: {conflict_message(computed)}")
        for violation in computed.violations:
            if violation.rule != "read-only-conflict":
                output.err(f"error: {computed.environment}: {violation.rule}: {violation.message}")
    codes = [plan_exit_code(computed, detailed=detailed_exitcode) for computed in plans]
    return EXIT_ERROR if EXIT_ERROR in codes else max(codes)


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
    cache: ParseCache | None = None,
) -> int:
    """Plan, print the plan and its violations; returns the exit code."""
    from registry_sync.operations.pipeline import conflict_message, plan_exit_code, plan_for
    from registry_sync.render.json import render_json
    from registry_sync.render.markdown import render_markdown
    from registry_sync.render.text import render_text

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
