"""All output goes through here: the Output object, the colour rules, and the
top of every command, which turns our errors into ``error: ...`` and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from registry_sync.errors import InvalidConfig, InvalidModels, RegistrySyncError
from registry_sync.exitcodes import EXIT_ERROR
from registry_sync.printable import printable_lines

if TYPE_CHECKING:
    from registry_sync.live.sources import LiveSource

__all__ = ["Output", "guard", "run_command", "warn_insecure", "write_file"]


class Output:
    """All output goes through here, so tests capture it and colour is decided once."""

    def __init__(self, color: bool | None = None) -> None:
        self.color = _want_color() if color is None else color

    def out(self, text: str = "", *, nl: bool = True) -> None:
        # color= stops click from stripping the ANSI codes we chose to emit. Anything
        # else unprintable is shown escaped, on a terminal or not: renderers escape
        # the values they print, this catches what any other line carries.
        click.echo(printable_lines(text, colour=self.color), nl=nl, color=self.color)

    def err(self, text: str = "", *, nl: bool = True) -> None:
        click.echo(printable_lines(text, colour=self.color), err=True, nl=nl, color=self.color)

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


def warn_insecure(source: LiveSource, output: Output) -> None:
    """Say so when --allow-insecure-http lets the key cross the network in clear."""
    if source.allow_insecure_http and source.insecure():
        output.err(
            "warning: --allow-insecure-http: the API key is sent over plain http, "
            "readable by anyone on the network path"
        )


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``; a failure is our error, naming the file."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RegistrySyncError(f"writing {path} failed: {exc.strerror or exc}") from exc


def guard(output: Output, run: Callable[[], int]) -> int:
    """Run a command: known errors print ``error: ...`` and exit 1; others are bugs."""
    try:
        return run()
    except (InvalidModels, InvalidConfig) as exc:
        for problem in exc.problems:
            output.err(str(problem))
        output.err(f"error: {printable_lines(str(exc))}")
        return EXIT_ERROR
    except RegistrySyncError as exc:
        # A server's message, an id or a file name: a colour code in it is no colour.
        output.err(f"error: {printable_lines(str(exc))}")
        return EXIT_ERROR


def run_command(output: Output, run: Callable[[], int]) -> NoReturn:
    """Run a command through :func:`guard` and exit with its code."""
    sys.exit(guard(output, run))
