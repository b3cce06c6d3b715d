"""The command line: parse, wire, print, exit code. The only package that imports click.

One module per command in ``commands/``; shared options in ``options.py``; all
output through ``output.py``; what each command does in :mod:`registry_sync.operations`.

Exit codes: 0 success; 1 error, invalid models or a policy violation (a read-only
conflict among them: apply would refuse the plan); with
``plan --detailed-exitcode``, 2 when changes are present; 3 when ``apply`` wrote some
changes and others failed, or was interrupted after writing; 4 when
``apply --verify-health`` left an entry it wrote unhealthy (rolled back or not), or
``health`` found a managed entry unavailable. Usage errors exit 1
too, so that CI never mistakes a typo for drift.
"""

from __future__ import annotations

import io
import re
import sys
import traceback
from typing import Any

import click

from registry_sync._version import __version__
from registry_sync.cli.commands.apply import apply
from registry_sync.cli.commands.completion import COMPLETE_VARIABLE, PROG_NAME, completion
from registry_sync.cli.commands.config import config
from registry_sync.cli.commands.export import export
from registry_sync.cli.commands.graph import graph
from registry_sync.cli.commands.health import health
from registry_sync.cli.commands.plan import plan
from registry_sync.cli.commands.render import render
from registry_sync.cli.commands.schema import schema
from registry_sync.cli.commands.show import show
from registry_sync.cli.commands.validate import validate
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.gcpause import tune_for_batch

__all__ = ["COMPLETE_VARIABLE", "PROG_NAME", "cli", "main"]


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
    makes it match; `show` prints a saved plan.

    The API key is read only from the MKA1_API_KEY environment variable.
    """


for _command in (
    validate,
    schema,
    completion,
    config,
    plan,
    show,
    apply,
    export,
    graph,
    render,
    health,
):
    cli.add_command(_command)


def main() -> None:
    """Console entry point (``registry-sync``)."""
    tune_for_batch()
    cli.main(prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE)
