"""The command line: parse, wire, print, exit code. The only module that imports click.

Exit codes: 0 success; 1 error, invalid models or a read-only conflict; with
``plan --detailed-exitcode``, 2 when changes are present. Usage errors exit 1 too,
so that CI never mistakes a typo for drift.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from registry_sync import __version__
from registry_sync.client import RetryPolicy
from registry_sync.definition import definition_json_schema
from registry_sync.errors import InvalidModels, RegistrySyncError
from registry_sync.export import READ_ONLY_DIR, Export, plan_export, printable, write_export
from registry_sync.loader import check_reroute_targets, load_models
from registry_sync.plan import Plan
from registry_sync.planner import PlanOptions, build_plan
from registry_sync.render.json import render_json
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text
from registry_sync.state import (
    API_KEY_VARIABLE,
    DEFAULT_API_URL,
    LiveSource,
    fetch_live,
    load_desired,
)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class Output:
    """All output goes through here, so tests capture it and colour is decided once."""

    def __init__(self, color: bool | None = None) -> None:
        self.color = _want_color() if color is None else color

    def out(self, text: str = "", *, nl: bool = True) -> None:
        # color= stops click from stripping the ANSI codes we chose to emit.
        click.echo(text, nl=nl, color=self.color)

    def err(self, text: str = "", *, nl: bool = True) -> None:
        click.echo(text, err=True, nl=nl, color=self.color)


def _want_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def models_dir_option(function: F) -> F:
    return click.option(
        "--models-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("models"),
        show_default=True,
        help="Folder of model definition files (*.yaml, *.yml, searched recursively).",
    )(function)


def live_source_options(function: F) -> F:
    options = [
        click.option(
            "--api-url",
            envvar="MKA1_API_URL",
            default=DEFAULT_API_URL,
            show_default=True,
            help="Registry API base URL [env: MKA1_API_URL]. The API key is read only "
            f"from {API_KEY_VARIABLE}.",
        ),
        click.option(
            "--on-behalf-of",
            envvar="MKA1_ON_BEHALF_OF",
            default=None,
            help="Send X-On-Behalf-Of with this external user id [env: MKA1_ON_BEHALF_OF].",
        ),
        click.option(
            "--registry-file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Plan offline against a saved list response "
            '({"object": "list", "data": [...]}) instead of calling the API.',
        ),
        click.option(
            "--retry-budget",
            type=click.FloatRange(min=0),
            default=RetryPolicy.max_elapsed,
            show_default=True,
            metavar="SECONDS",
            help="How long to keep retrying a request on 429, 5xx or connection errors "
            "(0 disables retries).",
        ),
    ]

    # The command receives one ``source: LiveSource`` instead of the separate flags.
    @functools.wraps(function)
    def command(
        *args: Any,
        api_url: str,
        on_behalf_of: str | None,
        registry_file: Path | None,
        retry_budget: float,
        **kwargs: Any,
    ) -> Any:
        source = LiveSource(
            api_url=api_url,
            registry_file=registry_file,
            on_behalf_of=on_behalf_of,
            retry_budget=retry_budget,
        )
        return function(*args, source=source, **kwargs)

    wrapped: Any = command
    for option in reversed(options):
        wrapped = option(wrapped)
    return cast(F, wrapped)


class _Group(click.Group):
    """Click group whose usage errors exit 1 (never 2, which means "changes"), and
    whose unexpected exceptions are reported as bugs."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except Exception:
            click.echo(
                "internal error: this is a bug in registry-sync; please report it with "
                "the traceback below",
                err=True,
            )
            click.echo(traceback.format_exc(), err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="registry-sync")
def cli() -> None:
    """Keep an MKA1 model registry in git.

    Model definitions live as YAML files in models/ (the API's camelCase keys).
    `validate` checks them, `plan` shows how the live registry differs.

    The API key is read only from the MKA1_API_KEY environment variable.
    """


@cli.command()
@models_dir_option
def validate(models_dir: Path) -> None:
    """Check every model file and list all problems with file and line.

    Exit 0 when every file is valid, 1 otherwise. No network access.
    """
    output = Output()
    _exit(_guard(output, lambda: run_validate(models_dir, output)))


def run_validate(models_dir: Path, output: Output) -> int:
    """Validate models/, print notes then the verdict; returns the exit code."""
    result = load_models(models_dir)
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    if result.problems:
        raise InvalidModels(result.problems)
    count = len(result.definitions)
    output.out(
        f"{count} model {'definition' if count == 1 else 'definitions'} in "
        f"{result.files} {'file' if result.files == 1 else 'files'}: valid."
    )
    return EXIT_OK


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a model file, for editors (yaml-language-server).

    Generated from the same models validate uses. No network access.
    """
    Output().out(json.dumps(definition_json_schema(), indent=2, ensure_ascii=False))
    _exit(EXIT_OK)


@cli.command()
@models_dir_option
@live_source_options
@click.option("--prune", is_flag=True, help="Plan to delete mutable live entries no file declares.")
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
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on for a terminal unless NO_COLOR is set).",
)
def plan(
    models_dir: Path,
    source: LiveSource,
    prune: bool,
    output_format: str,
    out: Path | None,
    artifact_hint: str | None,
    detailed_exitcode: bool,
    color: bool | None,
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or a read-only conflict. With
    --detailed-exitcode: 0 no changes, 1 error, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        computed = compute_plan(models_dir, source, prune=prune)
        if out is not None:
            _write_file(out, render_json(computed))
        if output_format == "json":
            output.out(render_json(computed), nl=False)
        elif output_format == "markdown":
            output.out(render_markdown(computed, artifact_hint=artifact_hint), nl=False)
        else:
            output.out(render_text(computed, color=output.color), nl=False)
        return plan_exit_code(computed, detailed=detailed_exitcode)

    _exit(_guard(output, run))


def compute_plan(models_dir: Path, source: LiveSource, *, prune: bool) -> Plan:
    """Load models/, fetch the live registry, check references and plan."""
    desired = load_desired(models_dir)
    live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
    known = {d.id for d in desired.definitions}
    known.update(entry.id for entry in live if entry.immutable or not prune)
    problems = check_reroute_targets(desired.definitions, known)
    if problems:
        raise InvalidModels(problems)
    options = PlanOptions(
        now=int(time.time()),
        prune=prune,
        models_dir=str(models_dir).rstrip("/"),
        registry=source.describe(),
    )
    return build_plan(desired.definitions, live, options)


def plan_exit_code(computed: Plan, *, detailed: bool) -> int:
    """1 for a read-only conflict; with ``detailed``, 2 when anything would change."""
    if computed.conflicts:
        return EXIT_ERROR
    if detailed and computed.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
@live_source_options
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("models"),
    show_default=True,
    help="Folder to write the model files to.",
)
@click.option(
    "--id",
    "ids",
    multiple=True,
    metavar="ID",
    help="Export only this registry id; repeat for more. Default: every mutable entry.",
)
@click.option(
    "--include-read-only",
    is_flag=True,
    help=f"Also export immutable entries, into <out-dir>/{READ_ONLY_DIR}/: they cannot be "
    "changed through the API, and plan only checks that they match.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite existing files. Without it an existing file stops the export before "
    "anything is written.",
)
def export(
    source: LiveSource,
    out_dir: Path,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
) -> None:
    """Write the live registry out as model files, one YAML file per entry.

    namespace:name goes to <out-dir>/namespace/name.yaml. Secrets found in the
    registry are never written: the file gets a placeholder and the command warns.
    Afterwards, plan against the same registry reports no changes.

    Exit 0 on success, 1 on error.
    """
    output = Output()
    _exit(
        _guard(
            output,
            lambda: run_export(
                source,
                out_dir,
                ids=ids,
                include_read_only=include_read_only,
                force=force,
                output=output,
            ),
        )
    )


def run_export(
    source: LiveSource,
    out_dir: Path,
    *,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
    output: Output,
) -> int:
    """Fetch the registry, write its entries below ``out_dir``; returns the exit code."""
    live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
    exported = plan_export(live, ids=ids, include_read_only=include_read_only)
    if not exported.files:
        output.out(f"Nothing to export: the registry has no mutable entries.{_skipped(exported)}")
        return EXIT_OK
    written = write_export(exported, out_dir, force=force)
    for path, file in zip(written, exported.files, strict=True):
        output.out(f"wrote {path.as_posix()}")
        for secret in file.secrets:
            output.err(
                f"warning: {printable(file.id)}: {secret.field} holds a secret; not written "
                f"to {path.as_posix()} ({secret.fix})"
            )
    read_only = sum(file.read_only for file in exported.files)
    where = f" ({read_only} read-only, in {READ_ONLY_DIR}/)" if read_only else ""
    count = len(written)
    output.out(
        f"Exported {count} {'model' if count == 1 else 'models'} to "
        f"{out_dir.as_posix()}/{where}.{_skipped(exported)}"
    )
    _warn_unloadable(out_dir, written, {entry.id for entry in live}, output)
    return EXIT_OK


def _skipped(exported: Export) -> str:
    count = exported.read_only_skipped
    if not count:
        return ""
    noun = "entry" if count == 1 else "entries"
    return f" {count} read-only {noun} not exported (--include-read-only exports them)."


def _warn_unloadable(
    out_dir: Path, written: list[Path], live_ids: set[str], output: Output
) -> None:
    """Warn about written files plan would reject, e.g. fields a newer server added or
    a reroute to a model the registry lacks.

    The file keeps what the registry holds; validate and plan will report it.
    """
    result = load_models(out_dir)
    found = [*result.problems, *check_reroute_targets(result.definitions, live_ids)]
    mine = {path.resolve() for path in written}
    problems = [p for p in found if Path(p.file).resolve() in mine]
    for problem in problems:
        output.err(f"warning: {problem}")
    if problems:
        output.err(
            "warning: the registry holds definitions registry-sync does not accept; "
            "validate and plan will report these files until they are fixed"
        )
    others = len(found) - len(problems)
    if others:
        output.err(
            f"note: {others} more {'problem' if others == 1 else 'problems'} in other files "
            f"below {out_dir.as_posix()}/; run validate to list them"
        )


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RegistrySyncError(f"writing {path} failed: {exc.strerror or exc}") from exc


def _guard(output: Output, run: Callable[[], int]) -> int:
    """Run a command: known errors print ``error: ...`` and exit 1; others are bugs."""
    try:
        return run()
    except InvalidModels as exc:
        for problem in exc.problems:
            output.err(str(problem))
        output.err(f"error: {exc}")
        return EXIT_ERROR
    except RegistrySyncError as exc:
        output.err(f"error: {exc}")
        return EXIT_ERROR


def _exit(code: int) -> None:
    sys.exit(code)


def main() -> None:
    """Console entry point (``registry-sync``)."""
    cli.main(prog_name="registry-sync")
