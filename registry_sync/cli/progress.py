"""One updating progress line on a terminal, for the long runs (apply, health, export).

On stderr, and only when stderr is a terminal and the output is not JSON: a log, a
pipe or a tool reading ``--format json`` gets none of it. The line is click's progress
bar (label, bar, done/total) followed by the status words (failures, rate) of
:func:`registry_sync.render.progress.progress_status`. A note printed while the line
is up (a rate-limit note, a definition to restore) goes above it, and the line is
drawn again below.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = ["ProgressLine", "wants_progress"]

# Erase the line the cursor is on (the progress line), from its start.
_CLEAR = "\r\x1b[K"


def wants_progress(output_format: str = "text") -> bool:
    """A progress line is for people: stderr is a terminal and the output is not JSON."""
    return output_format != "json" and sys.stderr.isatty()


class ProgressLine:
    """The line for one run of ``label`` (``Applying``), counting ``unit`` (``writes``).

    Drawn at the first :meth:`update` (which brings the total), ended by :meth:`close`
    or the ``with`` block; does nothing when not ``enabled``."""

    def __init__(
        self, label: str, unit: str, *, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self._label = label
        self._unit = unit
        self._enabled = enabled
        self._file = stream if stream is not None else sys.stderr
        self._bar: ProgressBar[int] | None = None
        self._failed = 0
        self._started = time.monotonic()

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def update(self, done: int, total: int, failed: int) -> None:
        """``done`` of ``total`` have ended, ``failed`` of them failed."""
        if not self._enabled or total <= 0:
            return
        if self._bar is None:
            self._bar = click.progressbar(
                length=total,
                label=self._label,
                file=self._file,
                show_pos=True,
                show_percent=False,
                show_eta=False,
                item_show_func=self._status,
                width=20,
            )
            self._bar.__enter__()
        self._failed = failed
        self._bar.update(max(done - self._bar.pos, 0), done)

    def note(self, text: str) -> None:
        """Print ``text`` (a line or more) above the progress line."""
        if self._bar is None:
            click.echo(text, file=self._file)
            return
        click.echo(_CLEAR + text, file=self._file)
        click.echo(self._bar.format_progress_line(), file=self._file, nl=False)
        self._file.flush()

    def close(self) -> None:
        """End the line (the cursor moves below it); again is a no-op."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def _status(self, done: int | None) -> str | None:
        # Here, not at the top: render.progress brings the applier (and httpx), which
        # `--help` and `validate`, importing this module, must not load.
        from registry_sync.render.progress import progress_status

        elapsed = time.monotonic() - self._started
        rate = (done or 0) / elapsed if elapsed > 0 else None
        return progress_status(self._failed, rate, self._unit)
