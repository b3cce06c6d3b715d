"""``registry-sync pull``: write what the registry holds into the files that declare it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry_sync.cli.options import (
    SourceFlags,
    cache_option,
    config_option,
    env_option,
    live_source_options,
    models_dir_option,
    plan_request,
    resolved,
    target_option,
)
from registry_sync.cli.output import Output, run_command
from registry_sync.exitcodes import EXIT_OK

if TYPE_CHECKING:
    from registry_sync.operations.pull import PullOutcome
    from registry_sync.settings.resolve import Settings

__all__ = ["pull", "report_pull", "run_pull"]


@click.command()
@models_dir_option
@live_source_options
@config_option
@env_option
@click.option(
    "--id",
    "ids",
    multiple=True,
    metavar="ID",
    help="Pull only this registry id; repeat for more.",
)
@target_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the unified diff of the files and write nothing.",
)
@click.option(
    "--include-new",
    is_flag=True,
    help="Also write the live entries no file declares, as export lays them out below "
    "the models folder.",
)
@cache_option
def pull(
    models_dir: Path | None,
    source: SourceFlags,
    config_file: Path | None,
    environment: str | None,
    ids: tuple[str, ...],
    targets: tuple[str, ...],
    dry_run: bool,
    include_new: bool,
    use_cache: bool,
) -> None:
    """Write what the registry holds into the files that declare it, in place.

    Each value goes to the file that set it: the model file, or the overlay of the
    environment selected with --env. Comments, key order, quoting and layout are
    kept; every file is read back before it is written, and nothing is written if
    one would not load as intended. A ${VAR} value, read-only entries and secrets
    are never written (a secret becomes export's placeholder, with a warning).
    Afterwards plan reports no changes for the ids pulled.

    Exit 0 on success (dry run too), 1 on error.
    """
    output = Output()

    def run() -> int:
        settings = resolved(config_file, environment)
        targeted = (*ids, *targets)
        return run_pull(output, settings, source, targeted, dry_run, include_new, use_cache)

    run_command(output, run)


def run_pull(
    output: Output,
    settings: Settings,
    source: SourceFlags,
    targets: tuple[str, ...],
    dry_run: bool,
    include_new: bool,
    use_cache: bool = True,
) -> int:
    """Pull the ids ``targets`` match (all when empty), print the diff (dry run) or
    the files written, and what was left alone."""
    from registry_sync.operations.pull import PullRequest
    from registry_sync.operations.pull import pull as pull_files

    request = plan_request(
        settings,
        source,
        output,
        allow_delete_all=False,
        allowed=(),
        replace=(),
        strict=False,
        targets=targets,
        use_cache=use_cache,
    )
    pulled = pull_files(PullRequest(request, dry_run=dry_run, include_new=include_new), output.err)
    report_pull(output, pulled)
    return EXIT_OK


def report_pull(output: Output, outcome: PullOutcome) -> None:
    """Say what a pull wrote (or would write) and what it left alone."""
    for skipped in outcome.skipped:
        where = f"{skipped.field}: " if skipped.field else ""
        output.err(f"note: {skipped.id}: {where}{skipped.reason}")
    for model_id, field, fix in outcome.secrets:
        output.err(f"warning: {model_id}: {field} holds a secret; not written ({fix})")
    if outcome.left_out:
        noun = "entry" if outcome.left_out == 1 else "entries"
        output.err(
            f"note: {outcome.left_out} live {noun} no file declares left out; "
            "--include-new writes them"
        )
    files = len(outcome.changed) + len(outcome.created)
    if outcome.dry_run:
        output.out(outcome.diff, nl=False)
        output.err(
            f"Dry run: {files} {'file' if files == 1 else 'files'} would change; "
            "nothing was written."
        )
        return
    for shown in outcome.changed:
        output.out(f"updated {shown}")
    for shown in outcome.created:
        output.out(f"wrote {shown}")
    if not files:
        output.out("Nothing to pull: the files hold what the registry holds.")
        return
    count = len(outcome.pulled)
    output.out(
        f"Pulled {count} {'entry' if count == 1 else 'entries'} into {files} "
        f"{'file' if files == 1 else 'files'}."
    )
