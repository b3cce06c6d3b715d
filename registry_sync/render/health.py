"""The ``registry-sync health`` table: text for people, JSON for tools, Markdown for
an issue or a job summary. One row per managed entry, in models/ order by id.

JSON, format version 1::

    {
      "format_version": "1",
      "registry": "<API URL>",
      "summary": {"available": 0, "unavailable": 0, "unknown": 0},
      "models": [
        {"id": "...", "is_available": true | false | null,  # null: could not probe
         "last_health_check": 1704067200000 | null, "error": "..." | null}
      ]
    }
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from registry_sync.apply.health import ModelHealth
from registry_sync.printable import printable
from registry_sync.render.markdown import code_span, escape_text

__all__ = [
    "FORMAT_VERSION",
    "HEALTH_FORMATS",
    "health_counts",
    "health_document",
    "render_health_json",
    "render_health_markdown",
    "render_health_text",
]

FORMAT_VERSION = "1"
_HEADERS = ("ID", "AVAILABLE", "LAST CHECK", "ERROR")


def health_counts(rows: Sequence[ModelHealth]) -> dict[str, int]:
    """How many rows are available, unavailable and unknown."""
    return {
        "available": sum(1 for row in rows if row.is_available is True),
        "unavailable": sum(1 for row in rows if row.is_available is False),
        "unknown": sum(1 for row in rows if row.is_available is None),
    }


def render_health_text(rows: Sequence[ModelHealth]) -> str:
    """An aligned table and a closing line, ending with a newline."""
    table = [
        _HEADERS,
        *(
            (printable(row.id), _available(row), _when(row), printable(row.error or ""))
            for row in rows
        ),
    ]
    widths = [max(len(line[column]) for line in table) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True))
        + ("  " + line[3] if line[3] else "")
        for line in table
    ]
    lines = [line.rstrip() for line in lines]
    lines.extend(["", _closing(rows)])
    return "\n".join(lines) + "\n"


def render_health_markdown(rows: Sequence[ModelHealth]) -> str:
    """A Markdown table and the closing line, ending with a newline."""
    lines = [
        "| id | available | last check | error |",
        "| --- | --- | --- | --- |",
        *(
            f"| {code_span(row.id, table=True)} | {_available(row)} | {_when(row) or '—'} "
            f"| {escape_text(row.error) if row.error else ''} |"
            for row in rows
        ),
        "",
        f"**{_closing(rows)}**",
    ]
    return "\n".join(lines) + "\n"


def health_document(rows: Sequence[ModelHealth], registry: str) -> dict[str, Any]:
    """The table as a JSON-ready dict in format version 1."""
    return {
        "format_version": FORMAT_VERSION,
        "registry": registry,
        "summary": health_counts(rows),
        "models": [_row(row) for row in rows],
    }


def _row(row: ModelHealth) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": row.id,
        "is_available": row.is_available,
        "last_health_check": row.last_health_check,
        "error": row.error,
    }
    if row.status is not None:  # the catalog generation's verdict
        found["status"] = row.status
    return found


def render_health_json(rows: Sequence[ModelHealth], registry: str) -> str:
    """The table as indented JSON text, ending with a newline."""
    return json.dumps(health_document(rows, registry), indent=2, ensure_ascii=False) + "\n"


def _available(row: ModelHealth) -> str:
    return {True: "yes", False: "NO", None: "unknown"}[row.is_available]


def _when(row: ModelHealth) -> str:
    if row.last_health_check is None:
        return ""
    moment = datetime.fromtimestamp(row.last_health_check / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _closing(rows: Sequence[ModelHealth]) -> str:
    counts = health_counts(rows)
    line = (
        f"{counts['available']} available, {counts['unavailable']} unavailable, "
        f"{counts['unknown']} unknown."
    )
    if counts["unavailable"]:
        line += (
            " Fix what each error names (baseUrl, the key variable, the upstream) in "
            "models/ and apply again."
        )
    elif any(row.is_available is None and row.status != "unknown" for row in rows):
        line += " Some could not be probed: see their errors."
    if any(row.status == "unknown" for row in rows):
        line += " The registry cannot tell yet whether the ones of status unknown are healthy."
    return line


HEALTH_FORMATS: Mapping[str, Callable[[Sequence[ModelHealth], str], str]] = {
    "text": lambda rows, _registry: render_health_text(rows),
    "json": render_health_json,
    "markdown": lambda rows, _registry: render_health_markdown(rows),
}
"""The health table's formats (``health --format``): rows and the registry probed."""
