"""The one sanitiser for text meant for a terminal or a log.

Ids, values, paths, server messages and file names come from files and registries
nobody vetted. Printed raw, a newline in an id forges a line of the plan
(``Plan: 0 to create...``), an escape sequence hides the real one (``ESC [8m``),
writes the clipboard (OSC 52) or retitles the terminal, and a bidi override
(U+202E) shows text in another order than it reads. :func:`printable` shows every
such character escaped as JSON writes it in a string (``\\n``, ``\\u001b``,
``\\u202e``): C0 and C1 controls, DEL, bidi overrides and isolates, line and
paragraph separators and every other character Unicode calls unprintable. Whether
the output is a terminal or a pipe makes no difference. JSON's own escapes are used
so that a JSON document passing through it stays valid and means the same.
"""

from __future__ import annotations

import re

__all__ = ["printable", "printable_lines"]

# The colour codes renderers emit (Select Graphic Rendition: ESC [ digits ; ... m).
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def printable(text: str) -> str:
    """``text`` on one line, with every unprintable character escaped; the same
    object when there is none (the common case costs one test)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def printable_lines(text: str, *, colour: bool = False) -> str:
    """:func:`printable` for each line of a text that has several on purpose (and
    its tabs); with ``colour``, colour codes pass too. What prints every command's
    output, as a last line of defence: renderers escape the values they place
    themselves, so that a colour code inside an id cannot pass as one of theirs."""
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text  # a plan of 10,000 entries: two passes in C, no loop
    if colour:
        return "".join(
            piece if index % 2 else printable_lines(piece)
            for index, piece in enumerate(_SGR.split(text))
        )
    return "\n".join(
        "\t".join(printable(cell) for cell in line.split("\t")) for line in text.split("\n")
    )


def _escaped(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code > 0xFFFF:  # as a surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
