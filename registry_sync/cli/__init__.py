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

import importlib
import io
import re
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from typing import Any

import click

from registry_sync._version import __version__
from registry_sync.cli.commands.completion import COMPLETE_VARIABLE, PROG_NAME
from registry_sync.exitcodes import EXIT_ERROR, EXIT_OK
from registry_sync.gcpause import tune_for_batch

__all__ = ["COMPLETE_VARIABLE", "PROG_NAME", "cli", "main"]


# Each command's name and its module in ``commands/``, which defines it under that name.
_COMMAND_MODULES = (
    "validate",
    "schema",
    "completion",
    "config",
    "plan",
    "show",
    "apply",
    "export",
    "pull",
    "fmt",
    "graph",
    "render",
    "health",
    "docs",
)


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands, each imported when first looked up: a run imports the
    module of the command it runs, not the ten others (``--help`` and completion
    look up all of them, and list the same commands as before)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = list(names)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        command = self._loaded.get(name)
        if command is None:
            if name not in self._names:
                raise KeyError(name)
            module = importlib.import_module(f"registry_sync.cli.commands.{name}")
            command = getattr(module, name)
            assert isinstance(command, click.Command)
            self._loaded[name] = command
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


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


@click.group(
    cls=_Group,
    commands=_Commands(_COMMAND_MODULES),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name=PROG_NAME)
def cli() -> None:
    """Keep an MKA1 model registry in git.

    Model definitions live as YAML files in models/ (the API's camelCase keys).
    `validate` checks them, `plan` shows how the live registry differs, `apply`
    makes it match; `show` prints a saved plan.

    The API key is read only from the MKA1_API_KEY environment variable.
    """


def main() -> None:
    """Console entry point (``registry-sync``)."""
    tune_for_batch()
    cli.main(prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE)
