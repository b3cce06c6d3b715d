"""The progress line's words, and notes printed while it is up."""

from __future__ import annotations

import io

from registry_sync.cli.progress import ProgressLine
from registry_sync.render.progress import progress_status


def test_the_status_counts_failures_and_the_rate() -> None:
    assert progress_status(0, None, "writes") == "0 failed"
    assert progress_status(2, 3.14159, "probes") == "2 failed, 3.1 probes/s"
    assert progress_status(1, 84.6, "writes") == "1 failed, 85 writes/s"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_note_goes_above_the_line_which_is_drawn_again() -> None:
    screen = Terminal()
    with ProgressLine("Applying", "writes", enabled=True, stream=screen) as line:
        line.update(1, 4, 0)
        line.note("note: the registry keeps rate limiting")
        line.update(4, 4, 1)
    text = screen.getvalue()
    before, after = text.split("\r\x1b[Knote: the registry keeps rate limiting\n")
    assert "Applying" in before and "1/4  0 failed" in before
    assert "4/4  1 failed" in after
    assert text.endswith("\n")


def test_a_line_not_enabled_prints_notes_only() -> None:
    screen = Terminal()
    with ProgressLine("Applying", "writes", enabled=False, stream=screen) as line:
        line.update(1, 4, 0)
        line.note("note: kept")
    assert screen.getvalue() == "note: kept\n"
