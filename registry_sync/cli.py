"""The command line: parse, wire, print, exit code. The only module that imports click.

Exit codes: 0 success; 1 error, invalid models or a policy violation (a read-only
conflict among them: apply would refuse the plan); with
``plan --detailed-exitcode``, 2 when changes are present; 3 when ``apply`` wrote some
changes and others failed, or was interrupted after writing. Usage errors exit 1
too, so that CI never mistakes a typo for drift.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import math
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click
from click.core import ParameterSource

from registry_sync._version import __version__
from registry_sync.applier import (
    DEFAULT_PARALLELISM,
    ApplyEvent,
    ApplyResult,
    Throttled,
    apply_plan,
)
from registry_sync.client import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    NetworkDeadline,
    RetryPolicy,
)
from registry_sync.config import ProjectConfig, project_config
from registry_sync.definition import definition_json_schema
from registry_sync.errors import (
    ApplyRefused,
    ConfigError,
    InvalidConfig,
    InvalidModels,
    RegistrySyncError,
)
from registry_sync.export import READ_ONLY_DIR, Export, plan_export, printable, write_export
from registry_sync.loader import check_reroute_graph, check_reroute_targets, load_models
from registry_sync.plan import Plan, Risk
from registry_sync.planfile import read_plan
from registry_sync.planner import IgnoreRule, PlanOptions, build_plan, replace_problems
from registry_sync.policy import Rules, SafetyRails, judge
from registry_sync.preflight import refusal
from registry_sync.problems import Problem
from registry_sync.render.graph import render_dot, render_mermaid
from registry_sync.render.json import render_json
from registry_sync.render.markdown import render_markdown
from registry_sync.render.result import render_result_json, render_result_text
from registry_sync.render.text import render_text
from registry_sync.reroutes import graph_edges
from registry_sync.state import (
    API_KEY_VARIABLE,
    DEFAULT_API_URL,
    LiveSource,
    fetch_live,
    load_desired,
    open_client,
)
from registry_sync.writable import write_problems

F = TypeVar("F", bound=Callable[..., Any])

PROG_NAME = "registry-sync"
# The variable click's completion scripts call the command back with (_PROG_NAME_COMPLETE).
COMPLETE_VARIABLE = "_REGISTRY_SYNC_COMPLETE"
COMPLETION_SHELLS = ("bash", "zsh", "fish")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_PARTIAL = 3
MB = 1024 * 1024


class Output:
    """All output goes through here, so tests capture it and colour is decided once."""

    def __init__(self, color: bool | None = None) -> None:
        self.color = _want_color() if color is None else color

    def out(self, text: str = "", *, nl: bool = True) -> None:
        # color= stops click from stripping the ANSI codes we chose to emit.
        click.echo(text, nl=nl, color=self.color)

    def err(self, text: str = "", *, nl: bool = True) -> None:
        click.echo(text, err=True, nl=nl, color=self.color)

    def ask(self, question: str) -> str:
        """Ask on the terminal and return the answer as typed (empty when just Enter)."""
        return str(click.prompt(question, default="", show_default=False, prompt_suffix=" "))


def _want_color() -> bool:
    """Colour on a terminal; NO_COLOR (no-color.org) turns it off and FORCE_COLOR
    (force-color.org) on, each when set to anything but ""; NO_COLOR wins."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def replace_option(function: F) -> F:
    return click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="ID",
        help="Delete and re-create this declared, mutable entry (exact id); repeat for more. "
        "The only way a plan replaces an entry.",
    )(function)


def models_dir_option(function: F) -> F:
    return click.option(
        "--models-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("models"),
        show_default=True,
        help="Folder of model definition files (*.yaml, *.yml, searched recursively).",
    )(function)


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Project configuration file (default: registry-sync.yaml in this folder or "
        "the nearest parent, up to the repository root).",
    )(function)


def policy_options(function: F) -> F:
    """The rules a plan is judged by, the same for plan and apply."""
    options = [
        click.option(
            "--max-deletes",
            type=click.IntRange(min=0),
            default=None,
            metavar="N",
            help="Refuse a plan that deletes more than N entries (default: max_deletes in "
            "registry-sync.yaml, else no cap).",
        ),
        click.option(
            "--allow-delete-all",
            is_flag=True,
            help="Allow a plan that deletes every mutable entry of the registry.",
        ),
        click.option(
            "--allow",
            "allowed",
            multiple=True,
            type=click.Choice([Risk.DESTRUCTIVE.value, Risk.BREAKING.value]),
            help="Allow changes of this risk class although policy: in registry-sync.yaml "
            "denies it; repeat for both.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def live_source_options(function: F) -> F:
    """The registry to read: the API (URL, user, retries) or a saved list response."""
    return _source_options(function, offline=True)


def api_source_options(function: F) -> F:
    """The registry API to talk to, for commands that write: no --registry-file."""
    return _source_options(function, offline=False)


def _source_options(function: F, *, offline: bool) -> F:
    registry_file_option = click.option(
        "--registry-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Work offline from a saved list response "
        '({"object": "list", "data": [...]}) instead of calling the API.',
    )
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
        # Commands that write need the API itself.
        *([registry_file_option] if offline else []),
        click.option(
            "--retry-budget",
            type=click.FloatRange(min=0),
            default=RetryPolicy.max_elapsed,
            show_default=True,
            metavar="SECONDS",
            help="How long to keep retrying a request on 429, 5xx or connection errors "
            "(0 disables retries).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            metavar="SECONDS",
            help="The most time the command spends on the network in total, retries included.",
        ),
        click.option(
            "--max-response-mb",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_RESPONSE_BYTES // MB,
            show_default=True,
            metavar="MB",
            help="Refuse a registry answer larger than this.",
        ),
        click.option(
            "--allow-insecure-http",
            is_flag=True,
            help="Allow a plain http:// API URL to another machine (the key then crosses "
            "the network unencrypted). http://localhost needs no flag.",
        ),
    ]

    # The command receives one ``source: LiveSource`` instead of the separate flags.
    @functools.wraps(function)
    def command(
        *args: Any,
        api_url: str,
        on_behalf_of: str | None,
        retry_budget: float,
        timeout: float,
        max_response_mb: int,
        allow_insecure_http: bool,
        registry_file: Path | None = None,
        **kwargs: Any,
    ) -> Any:
        source = LiveSource(
            api_url=api_url,
            registry_file=registry_file,
            on_behalf_of=on_behalf_of,
            retry_budget=retry_budget,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_mb * MB,
            deadline=NetworkDeadline(timeout),
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
            _show(exc)
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


def _show(exc: click.ClickException) -> None:
    """click's report of a usage error (usage line and help hint included), with the
    ``error:`` every other error of ours starts with instead of click's ``Error:``."""
    report = io.StringIO()
    exc.show(file=report)
    click.echo(
        re.sub(r"^Error: ", "error: ", report.getvalue(), count=1, flags=re.M), err=True, nl=False
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG_NAME)
def cli() -> None:
    """Keep an MKA1 model registry in git.

    Model definitions live as YAML files in models/ (the API's camelCase keys).
    `validate` checks them, `plan` shows how the live registry differs, `apply`
    makes it match.

    The API key is read only from the MKA1_API_KEY environment variable.
    """


def strict_option(function: F) -> F:
    return click.option(
        "--strict",
        is_flag=True,
        help="Fail on warnings too (rules the registry API itself does not enforce).",
    )(function)


@cli.command()
@models_dir_option
@strict_option
def validate(models_dir: Path, strict: bool) -> None:
    """Check every model file and list all problems with file and line.

    Warnings (rules the API does not enforce) are printed; they fail only with
    --strict. Exit 0 when every file is valid, 1 otherwise. No network access.
    """
    output = Output()
    _run_command(output, lambda: run_validate(models_dir, output, strict=strict))


def run_validate(models_dir: Path, output: Output, *, strict: bool = False) -> int:
    """Validate models/, print notes then the verdict; returns the exit code."""
    result = load_models(models_dir)
    for note in result.notes:
        output.err(f"note: {note}")
    if result.files == 0:
        output.err(f"note: no *.yaml or *.yml files found below {models_dir}")
    graph = check_reroute_graph(result.definitions)
    _check(sorted([*result.problems, *graph]), strict=strict, output=output)
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


@cli.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(COMPLETION_SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash, in ~/.bashrc: eval "$(registry-sync completion bash)"
    zsh, in ~/.zshrc:   eval "$(registry-sync completion zsh)"
    fish: registry-sync completion fish > ~/.config/fish/completions/registry-sync.fish
    """
    # Only here: the completion machinery is not worth importing on every start.
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)
    assert script is not None  # click ships all three
    Output().out(script(cli, {}, PROG_NAME, COMPLETE_VARIABLE).source(), nl=False)


@cli.command()
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
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on for a terminal; NO_COLOR turns it off, "
    "FORCE_COLOR on).",
)
@replace_option
@strict_option
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
) -> None:
    """Show how the live registry differs from models/.

    Exit 0 on success, 1 on error or when apply would refuse the plan (a read-only
    conflict or another policy violation). With --detailed-exitcode: 0 no changes,
    1 error or violation, 2 changes present.
    """
    output = Output(color)

    def run() -> int:
        settings = _configured(config_file, models_dir, source, prune)
        _warn_insecure(settings.source, output)
        computed = compute_plan(
            settings.models_dir,
            settings.source,
            prune=settings.prune,
            ignore=settings.config.ignore,
            server_defaults=settings.config.server_defaults,
            replace=replace,
            strict=strict,
            output=output,
            rules=policy_rules(settings.config, max_deletes, allow_delete_all, allowed),
        )
        if out is not None:
            _write_file(out, render_json(computed))
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

    _run_command(output, run)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a command works on, once the project configuration has filled in what no
    flag or environment variable set."""

    config: ProjectConfig
    models_dir: Path
    source: LiveSource
    prune: bool


def _configured(
    config_file: Path | None,
    models_dir: Path,
    source: LiveSource,
    prune: bool,
    *,
    models_dir_param: str = "models_dir",
) -> Settings:
    """Read the project configuration; flags and environment variables override it."""
    config = project_config(config_file)
    if config.models_dir is not None and not _given(models_dir_param):
        models_dir = config.models_dir
    if config.api_url is not None and not _given("api_url"):
        source = dataclasses.replace(source, api_url=config.api_url)
    if config.prune is not None and not _given("prune"):
        prune = config.prune
    return Settings(config, models_dir, source, prune)


def policy_rules(
    config: ProjectConfig,
    max_deletes: int | None,
    allow_delete_all: bool,
    allowed: tuple[str, ...],
) -> Rules:
    """The rules a plan is judged by: flags first, then registry-sync.yaml."""
    rails = SafetyRails(
        protect=config.protect,
        max_deletes=config.max_deletes if max_deletes is None else max_deletes,
        allow_delete_all=allow_delete_all,
        freeze=config.freeze,
    )
    return Rules(
        rails=rails,
        deny=frozenset(Risk(name) for name in config.deny),
        allow=frozenset(Risk(name) for name in allowed),
    )


def _warn_insecure(source: LiveSource, output: Output) -> None:
    """Say so when --allow-insecure-http lets the key cross the network in clear."""
    if source.allow_insecure_http and source.insecure():
        output.err(
            "warning: --allow-insecure-http: the API key is sent over plain http, "
            "readable by anyone on the network path"
        )


def _given(name: str) -> bool:
    """True when parameter ``name`` came from the command line or the environment."""
    where = click.get_current_context().get_parameter_source(name)
    return where not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def compute_plan(
    models_dir: Path,
    source: LiveSource,
    *,
    prune: bool,
    ignore: tuple[IgnoreRule, ...] = (),
    server_defaults: Mapping[str, Any] | None = None,
    replace: tuple[str, ...] = (),
    strict: bool = False,
    output: Output | None = None,
    rules: Rules | None = None,
) -> Plan:
    """Load models/, fetch the live registry, check references, plan, check that the
    API accepts every write, and judge the plan by ``rules`` (risk, violations).
    Warnings go to ``output``'s stderr."""
    desired = load_desired(models_dir, strict=strict)
    if output is not None:
        _print_warnings(output, desired.warnings)
    live = fetch_live(source, os.environ.get(API_KEY_VARIABLE))
    wrong = replace_problems(replace, desired.definitions, live)
    if wrong:
        raise ConfigError("; ".join(wrong))
    known = {d.id for d in desired.definitions}
    # A target the plan deletes is the policy's to report (reroute-target-deleted).
    known.update(entry.id for entry in live)
    definitions = {entry.id: entry.definition for entry in live}
    graph = check_reroute_graph(desired.definitions, definitions)
    references = [*check_reroute_targets(desired.definitions, known), *graph]
    _check(sorted(set(references)), strict=strict, output=output)
    options = PlanOptions(
        prune=prune,
        ignore=ignore,
        replace=frozenset(replace),
        server_defaults=server_defaults or {},
        models_dir=str(models_dir).rstrip("/"),
        registry=source.describe(),
    )
    computed = build_plan(desired.definitions, live, options)
    _check(write_problems(computed), strict=strict, output=output)
    return judge(computed, rules or Rules(), definitions)


def _check(problems: Sequence[Problem], *, strict: bool, output: Output | None) -> None:
    """Raise :class:`InvalidModels` when a problem is an error (or, with ``strict``, a
    warning); otherwise print the warnings and go on."""
    if any(problem.severity == "error" for problem in problems) or (strict and problems):
        raise InvalidModels(problems)
    if output is not None:
        _print_warnings(output, problems)


def _print_warnings(output: Output, warnings: Sequence[Problem]) -> None:
    for warning in warnings:
        if warning.severity == "warning":
            output.err(str(warning))


def conflict_message(computed: Plan) -> str:
    """Why a plan with read-only conflicts fails, and what to do about it."""
    ids = ", ".join(change.id for change in computed.conflicts)
    count = len(computed.conflicts)
    return (
        f"{count} read-only {'conflict' if count == 1 else 'conflicts'} ({ids}): the server "
        f"defines {'this entry' if count == 1 else 'these entries'} itself and no write can "
        f"change {'it' if count == 1 else 'them'}; make {computed.models_dir}/ match the "
        "registry, or remove the file"
    )


def plan_exit_code(computed: Plan, *, detailed: bool) -> int:
    """1 for a violation (a read-only conflict among them); with ``detailed``, 2 when
    anything would change."""
    if computed.violations:
        return EXIT_ERROR
    if detailed and computed.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
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
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on for a terminal; NO_COLOR turns it off, "
    "FORCE_COLOR on).",
)
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
            given = [
                f"--{name.replace('_', '-')}"
                for name in ("models_dir", "prune", "replace", "strict")
                if _given(name)
            ]
            if given:
                raise ConfigError(
                    f"{' and '.join(given)} cannot be used with a saved plan, which was made "
                    "with its own; plan again to change them"
                )
        settings = _configured(config_file, models_dir, source, prune)
        _warn_insecure(settings.source, output)
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
        )

    _run_command(output, run)


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
            output=output,
            rules=rules,
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
            _write_file(out, render_result_json(nothing))
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
            _write_file(out, render_result_json(result))
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


def apply_exit_code(result: ApplyResult) -> int:
    """0 when every write is done, 3 when some landed and others did not (or a run
    that wrote was interrupted), else 1."""
    if result.interrupted and result.wrote:
        return EXIT_PARTIAL
    if result.complete:
        return EXIT_OK
    return EXIT_PARTIAL if result.wrote else EXIT_ERROR


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


@cli.command()
@live_source_options
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("models"),
    show_default=True,
    help="Folder to write the model files to (default: models_dir in registry-sync.yaml, "
    "else models).",
)
@config_option
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
    config_file: Path | None,
    ids: tuple[str, ...],
    include_read_only: bool,
    force: bool,
) -> None:
    """Write the live registry out as model files, one YAML file per entry.

    namespace:name goes to <out-dir>/namespace/name.yaml. Secrets found in the
    registry are never written: the file gets a placeholder and the command warns.
    Afterwards plan against the same registry reports no changes, unless a secret
    had to be left out.

    Exit 0 on success, 1 on error.
    """
    output = Output()

    def run() -> int:
        settings = _configured(config_file, out_dir, source, False, models_dir_param="out_dir")
        _warn_insecure(settings.source, output)
        return run_export(
            settings.source,
            settings.models_dir,
            ids=ids,
            include_read_only=include_read_only,
            force=force,
            output=output,
        )

    _run_command(output, run)


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
        if file.unknown_fields:
            names = ", ".join(printable(name) for name in file.unknown_fields)
            output.err(
                f"warning: {printable(file.id)}: {names} left out of {path.as_posix()}: "
                "unknown to this version of registry-sync, which neither writes nor compares them"
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
    # Warnings (e.g. a {url, method} health check kept as the registry holds it) are
    # validate's to show: the files load.
    found = [*result.errors, *check_reroute_targets(result.definitions, live_ids)]
    mine = {path.resolve() for path in written}
    problems = [p for p in found if Path(p.file).resolve() in mine]
    for problem in problems:
        output.err(f"warning: {problem}")
    if problems:
        output.err(
            "warning: validate and plan will reject the exported files above until they "
            "are fixed: the registry holds what this version of registry-sync does not accept"
        )
    others = len(found) - len(problems)
    if others:
        output.err(
            f"note: {others} more {'problem' if others == 1 else 'problems'} in other files "
            f"below {out_dir.as_posix()}/; run validate to list them"
        )


@cli.command()
@models_dir_option
@live_source_options
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="mermaid (a flowchart, e.g. for Markdown) or dot (Graphviz).",
)
@click.option(
    "--files-only",
    is_flag=True,
    help="Draw only what models/ declares; do not read the registry.",
)
def graph(
    models_dir: Path,
    source: LiveSource,
    config_file: Path | None,
    output_format: str,
    files_only: bool,
) -> None:
    """Print the reroute graph: which model reroutes to which, and on what trigger.

    The graph of models/ laid over the live registry (the registry's own entries
    stand where no file declares them), as apply without --prune would leave it.
    Only models with a reroute rule, or that one targets, are drawn.

    Exit 0 on success, 1 on error.
    """
    output = Output()

    def run() -> int:
        settings = _configured(config_file, models_dir, source, False)
        desired = load_desired(settings.models_dir)
        definitions: dict[str, Mapping[str, Any]] = {}
        if not files_only:
            live = fetch_live(settings.source, os.environ.get(API_KEY_VARIABLE))
            definitions.update((entry.id, entry.definition) for entry in live)
        definitions.update((d.id, d.body) for d in desired.definitions)
        edges = graph_edges(definitions)
        output.out(render_dot(edges) if output_format == "dot" else render_mermaid(edges), nl=False)
        return EXIT_OK

    _run_command(output, run)


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RegistrySyncError(f"writing {path} failed: {exc.strerror or exc}") from exc


def _guard(output: Output, run: Callable[[], int]) -> int:
    """Run a command: known errors print ``error: ...`` and exit 1; others are bugs."""
    try:
        return run()
    except (InvalidModels, InvalidConfig) as exc:
        for problem in exc.problems:
            output.err(str(problem))
        output.err(f"error: {exc}")
        return EXIT_ERROR
    except RegistrySyncError as exc:
        output.err(f"error: {exc}")
        return EXIT_ERROR


def _run_command(output: Output, run: Callable[[], int]) -> NoReturn:
    """Run a command through :func:`_guard` and exit with its code."""
    sys.exit(_guard(output, run))


def main() -> None:
    """Console entry point (``registry-sync``)."""
    cli.main(prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE)
