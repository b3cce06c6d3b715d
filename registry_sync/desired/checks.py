"""Problems to a verdict: stop on an error (or, strictly, on a warning), else pass the
warnings on. Light on purpose: validate uses it without the planner or the client."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from registry_sync.errors import InvalidModels
from registry_sync.schema.problems import Problem

__all__ = ["Warn", "check_problems", "print_warnings"]

Warn = Callable[[str], None]
"""Where warnings go (a line of text each), e.g. the CLI's stderr."""


def check_problems(problems: Sequence[Problem], *, strict: bool, warn: Warn | None) -> None:
    """Raise :class:`InvalidModels` when a problem is an error (or, with ``strict``, a
    warning); otherwise pass the warnings to ``warn`` and go on."""
    if any(problem.severity == "error" for problem in problems) or (strict and problems):
        raise InvalidModels(problems)
    if warn is not None:
        print_warnings(warn, problems)


def print_warnings(warn: Warn, warnings: Sequence[Problem]) -> None:
    """Pass each warning (not the errors) to ``warn``."""
    for warning in warnings:
        if warning.severity == "warning":
            warn(str(warning))
