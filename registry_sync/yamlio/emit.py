"""libyaml's emitter, made to write what PyYAML's Python emitter writes for export.

Export writes list items indented under their key (``key:\\n  - item``); PyYAML does
that through a hook of its Python emitter, which costs most of an export's time.
libyaml's emitter writes the same document with the items at their key's column
(``key:\\n- item``): ``indent_sequences`` moves each such list two columns right.

Only documents whose keys and strings are printable ASCII on one line go this way
(nearly every definition): there the two emitters agree, which a differential test
checks. Anything else (newlines, other characters, an empty key) takes the Python
emitter, as does an installation of PyYAML without libyaml.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MISREAD_ELSEWHERE", "fits_libyaml", "indent_sequences"]

_PRINTABLE = re.compile(r"[ -~]+")
# Strings PyYAML's own (YAML 1.1) resolver reads as plain text but other readers do
# not: YAML 1.2 numbers ("1e3", "0o17") and the YAML 1.1 booleans "y"/"n". Export and
# the in-place editor (yamlio/roundtrip.py) quote them.
MISREAD_ELSEWHERE = re.compile(
    r"""^(?:
        [-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
      | 0o[0-7]+
      | [yYnN]
    )$""",
    re.VERBOSE,
)
# A line that opens a literal or folded block scalar: its content follows, deeper.
_BLOCK_HEADER = re.compile(r"(?:^|: |- )[|>][1-9]?[-+]?[1-9]?$")


def fits_libyaml(value: Any) -> bool:
    """True when ``value`` holds only what both emitters write the same way."""
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _PRINTABLE.fullmatch(key) and fits_libyaml(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return all(fits_libyaml(item) for item in value)
    if isinstance(value, str):
        return not value or _PRINTABLE.fullmatch(value) is not None
    return value is None or isinstance(value, (bool, int, float))


def indent_sequences(text: str) -> str:
    """libyaml's block YAML with every list that is a mapping's value indented by two."""
    out: list[str] = []
    open_columns: list[int] = []  # columns of the lists being moved, as libyaml wrote them
    block_above: int | None = None  # inside a block scalar: lines deeper than this column
    key_column: int | None = None  # the column of the key the previous line opened
    for line in text.split("\n"):
        if not line:
            out.append(line)
            continue
        column = len(line) - len(line.lstrip(" "))
        if block_above is not None and column > block_above:
            out.append(" " * (2 * len(open_columns)) + line)
            continue
        block_above = None
        rest = line[column:]
        item = rest == "-" or rest.startswith("- ")
        while open_columns and (
            column < open_columns[-1] or (column == open_columns[-1] and not item)
        ):
            open_columns.pop()
        if item and key_column == column and (not open_columns or open_columns[-1] != column):
            open_columns.append(column)
        out.append(" " * (2 * len(open_columns)) + line)
        start = column
        while rest.startswith("- "):
            start += 2
            rest = rest[2:]
        key_column = start if line.endswith(":") else None
        if _BLOCK_HEADER.search(line):
            block_above = start - 2 if rest.startswith(("|", ">")) else start
    return "\n".join(out)
