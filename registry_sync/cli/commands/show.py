"""``registry-sync show PLAN_FILE``: a saved plan, printed offline as `plan` printed it."""

from __future__ import annotations

from pathlib import Path

import click

from registry_sync.cli.options import color_option, compact_option
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK

__all__ = ["show"]


@click.command()
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people; json is the plan document (registry-sync docs json); markdown is a "
    "pull-request comment.",
)
@compact_option
@color_option
def show(plan_file: Path, output_format: str, compact: bool, color: bool | None) -> None:
    """Print a saved plan (`plan --out FILE`) as `plan` printed it, in any format, with
    the judgement it was made with (risk, violations). No network access, no
    registry-sync.yaml: `apply PLAN_FILE` judges the plan again against the registry
    and the rules of the moment. Exit 0, or 1 when the file is not a well-formed plan.
    """
    output = Output(color)

    def run() -> int:
        # Imported here, like every command's work: --help must not pay for it.
        from registry_sync.operations.show import ShowRequest, show_plan
        from registry_sync.render.formats import PLAN_FORMATS, View

        shown = show_plan(ShowRequest(plan_file))
        output.out(
            PLAN_FORMATS[output_format](shown.plan, View(color=output.color, compact=compact)),
            nl=False,
        )
        for note in shown.notes:
            output.err(f"note: {note}")
        return EXIT_OK

    run_command(output, run)
