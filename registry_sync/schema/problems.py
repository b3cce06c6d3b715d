"""Problems found in models/ are values: comparable, sortable, rendered late."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from registry_sync.printable import printable

__all__ = ["Problem", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at ``file:line`` in the field ``path`` (dotted, ``a.b[2].c``).

    ``line`` is 1-based; 0 means the problem concerns the whole file. A ``warning``
    is a rule the API itself does not enforce: printed, but only ``--strict`` makes it
    fail a command.
    """

    file: str
    line: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """``file:line: path: message`` on one line, unprintable characters escaped."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        message = f"warning: {self.message}" if self.severity == "warning" else self.message
        if self.path:
            return printable(f"{where}: {self.path}: {message}")
        return printable(f"{where}: {message}")
