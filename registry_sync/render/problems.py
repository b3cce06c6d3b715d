"""Problems found in models/ as text for people, JSON for tools, or GitHub annotations.

Every format takes the same sorted :class:`Problem` values; ``validate --format`` and
the GitHub action's validate step both render through here.

JSON (``validate --format json``)::

    {"format_version": "1", "valid": true|false, "definitions": 3, "files": 2,
     "problems": [{"file": "models/a.yaml", "line": 3 | null, "column": null,
                   "path": "capabilities.modalities" | "", "message": "...",
                   "severity": "error|warning"}]}

``line`` is null when the problem concerns the whole file; ``column`` is null where
it is not known (the loader records lines only). ``valid`` is false when any problem
fails the run (an error, or a warning under ``--strict``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from registry_sync.schema.problems import Problem

__all__ = [
    "VALIDATE_FORMAT_VERSION",
    "annotation",
    "count_phrase",
    "escape_data",
    "escape_property",
    "problem_annotation",
    "render_problems_github",
    "render_problems_json",
]


# The validate document's version: a string holding a whole number, as every JSON
# document of registry-sync carries one (docs/json.md).
VALIDATE_FORMAT_VERSION = "1"


def count_phrase(definitions: int, files: int) -> str:
    """``N model definitions in M files``: the one wording every command uses."""
    nouns = "definition" if definitions == 1 else "definitions"
    return f"{definitions} model {nouns} in {files} {'file' if files == 1 else 'files'}"


def render_problems_json(
    problems: Sequence[Problem], *, definitions: int, files: int, valid: bool
) -> str:
    """The problems as one JSON document, ending with a newline."""
    document: dict[str, Any] = {
        "format_version": VALIDATE_FORMAT_VERSION,
        "valid": valid,
        "definitions": definitions,
        "files": files,
        "problems": [
            {
                "file": problem.file,
                "line": problem.line or None,
                "column": None,
                "path": problem.path,
                "message": problem.message,
                "severity": problem.severity,
            }
            for problem in problems
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def problem_annotation(problem: Problem, *, file: str | None = None) -> str:
    """One problem as a GitHub workflow command on its file and line; ``file``
    overrides the problem's path (e.g. relative to the checkout)."""
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    return annotation(
        problem.severity,
        message,
        title="registry-sync validate",
        file=problem.file if file is None else file,
        line=problem.line,
    )


def render_problems_github(problems: Sequence[Problem]) -> str:
    """Every problem as a workflow-command annotation, one per line."""
    return "".join(problem_annotation(problem) + "\n" for problem in problems)


def annotation(level: str, message: str, *, title: str = "", file: str = "", line: int = 0) -> str:
    """An ``::error::`` / ``::warning::`` / ``::notice::`` workflow command, escaped so
    no file name or message can end it early or start another command."""
    properties = {"title": title, "file": file, "line": str(line) if line else ""}
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v)
    return f"::{level}{' ' + joined if joined else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
