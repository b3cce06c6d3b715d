"""The apply result: the final report for people, and the JSON document for tools.

Both list every planned write in plan order (by id), whatever order they finished
in, so two runs with the same outcome print the same text.

JSON, format version 1::

    {
      "format_version": "1",
      "registry": "<API URL>",
      "outcome": "no-changes|complete|incomplete|interrupted",
      "already_applied": false,     # true (outcome no-changes): the registry already held
                                    # every write of the saved plan; added within version 1
      "summary": {"created": 0, "updated": 0, "replaced": 0, "deleted": 0,
                  "failed": 0, "skipped": 0},
      "confirmed": true,            # every write reported done was re-read and checked
      "unconfirmed_reason": null,   # why not, when it could not be
      "entries": [
        {"id": "...", "action": "create|update|replace|delete",
         "outcome": "done|failed|skipped", "detail": "...",
         "status": 500 | null, "wrote": true, "restore": {...} | null}
      ],
      "health": null | [            # null unless apply ran with --verify-health
        {"id": "...", "action": "create|update|replace",
         "state": "healthy|unhealthy|not-probed",
         "error": "..." | null,       # the server's error, or why it was not probed
         "checked_at": 1704067200000 | null,
         "rollback": null | {"how": "patch|delete|re-create", "succeeded": true,
                             "detail": "..."}}
      ]
    }
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from registry_sync.apply.applier import ApplyResult, EntryResult, Outcome
from registry_sync.apply.health import EntryHealth, HealthReport, HealthState
from registry_sync.plan.model import Action
from registry_sync.printable import printable, printable_lines
from registry_sync.render.formats import View

__all__ = [
    "FORMAT_VERSION",
    "RESULT_FORMATS",
    "closing_line",
    "outcome",
    "render_result_json",
    "render_result_text",
    "result_document",
]

FORMAT_VERSION = "1"

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.ACTIVATE: ">",
    Action.DEACTIVATE: "<",
}
_COLOURS = {Outcome.DONE: _GREEN, Outcome.FAILED: _RED, Outcome.SKIPPED: _YELLOW}
_COUNTED = (
    ("created", Action.CREATE),
    ("updated", Action.UPDATE),
    ("replaced", Action.REPLACE),
    ("deleted", Action.DELETE),
)
# Counted too when a run planned any (the catalog generation).
_SERVING = (("activated", Action.ACTIVATE), ("deactivated", Action.DEACTIVATE))


def _counted(result: ApplyResult) -> tuple[tuple[str, Action], ...]:
    serving = any(entry.action in (Action.ACTIVATE, Action.DEACTIVATE) for entry in result.results)
    return _COUNTED + _SERVING if serving else _COUNTED


def outcome(result: ApplyResult) -> str:
    """``no-changes``, ``complete``, ``interrupted`` or ``incomplete``."""
    if not result.results:
        return "no-changes"
    if result.complete:
        return "complete"
    return "interrupted" if result.interrupted else "incomplete"


def closing_line(result: ApplyResult) -> str:
    """``Apply complete: 1 created, 2 updated, 0 replaced, 0 deleted.``, or what is left."""
    counts = ", ".join(
        f"{result.count(Outcome.DONE, action)} {word}" for word, action in _counted(result)
    )
    if result.complete:
        return f"Apply complete: {counts}."
    failed = result.count(Outcome.FAILED)
    skipped = result.count(Outcome.SKIPPED)
    head = "Apply interrupted" if result.interrupted else "Apply incomplete"
    return f"{head}: {counts}; {failed} failed, {skipped} skipped."


def render_result_text(
    result: ApplyResult, *, color: bool = False, health: HealthReport | None = None
) -> str:
    """The final report: one line per write, restore definitions, the closing line,
    and with ``health`` the health of each entry written and what to do next."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    if result.already_applied:
        return (
            "\nAlready applied: nothing to do. The registry already holds every write of "
            "this plan.\n"
        )
    lines = ["", "Apply report:"]
    for entry in result.results:
        lines.append("  " + _entry_line(entry, paint))
        if entry.restore is not None:
            lines.append("      Definition to restore (POST it, or run apply again):")
            text = json.dumps(dict(entry.restore), indent=2, ensure_ascii=False)
            lines.extend("      " + line for line in printable_lines(text).splitlines())
    lines.append("")
    lines.append(paint(_BOLD, closing_line(result)))
    if not result.complete:
        if result.wrote:
            lines.append(
                "The registry is now partly changed. Fix the cause and run "
                "`registry-sync apply` again: it continues where this run stopped."
            )
        else:
            lines.append("Nothing was written.")
    if result.unconfirmed is not None:
        lines.append(
            "warning: the registry could not be read again to confirm the writes "
            f"({printable(result.unconfirmed)}); run `registry-sync plan` to check"
        )
    if health is not None:
        lines.extend(_health_lines(health, paint))
    return "\n".join(lines) + "\n"


def _health_lines(health: HealthReport, paint: Callable[[str, str], str]) -> list[str]:
    lines = ["", "Health after apply:"]
    if not health.entries:
        lines.append("  nothing created, updated or re-created to probe")
    for entry in health.entries:
        lines.append("  " + _health_line(entry, paint))
    unhealthy = health.unhealthy
    if not unhealthy:
        return lines
    lines.append("")
    names = ", ".join(printable(entry.id) for entry in unhealthy)
    kept = [printable(entry.id) for entry in unhealthy if entry.rollback is None]
    if kept:
        lines.append(
            paint(_BOLD, f"Unhealthy after apply: {', '.join(kept)}.")
            + " Fix what the error names (baseUrl, the key variable, the upstream) in "
            "models/ and apply again, or apply with --rollback-on-unhealthy to put "
            "unhealthy entries back as they were."
        )
    elif health.rollback_failed:
        lines.append(
            paint(_BOLD, f"Unhealthy after apply: {names}; a rollback FAILED.")
            + " Run `registry-sync plan` to see what the registry holds now, and put it "
            "right by hand or apply again."
        )
    else:
        lines.append(
            paint(_BOLD, f"Rolled back: {names}.")
            + " They are as they were before this apply; the other changes stay applied. "
            "Fix models/ and apply again."
        )
    return lines


def _health_line(entry: EntryHealth, paint: Callable[[str, str], str]) -> str:
    shown_id, error = printable(entry.id), printable(str(entry.error))
    if entry.state is HealthState.HEALTHY:
        return f"{paint(_GREEN, 'healthy')}    {shown_id}"
    if entry.state is HealthState.NOT_PROBED:
        return f"{paint(_YELLOW, 'not probed')} {shown_id}: {error}"
    if entry.state is HealthState.UNKNOWN:
        return f"{paint(_YELLOW, 'unknown')}    {shown_id}: {error}"
    line = f"{paint(_RED, 'UNHEALTHY')}  {shown_id}: {error}"
    rollback = entry.rollback
    if rollback is None:
        return line
    detail = printable(rollback.detail)
    if rollback.succeeded:
        return f"{line}; rolled back ({rollback.how}): {detail}"
    return f"{line}; {paint(_RED, 'ROLLBACK FAILED')} ({rollback.how}): {detail}"


def _entry_line(entry: EntryResult, paint: Callable[[str, str], str]) -> str:
    symbol = paint(_COLOURS[entry.outcome], _SYMBOLS[entry.action])
    shown_id, detail = printable(entry.id), printable(entry.detail)
    if entry.outcome is Outcome.DONE:
        return f"{symbol} {shown_id}: {detail}"
    word = "FAILED" if entry.outcome is Outcome.FAILED else "skipped"
    label = paint(_COLOURS[entry.outcome], word)
    return f"{symbol} {shown_id}: {label} ({entry.action.value}): {detail}"


def result_document(result: ApplyResult, health: HealthReport | None = None) -> dict[str, Any]:
    """The result as a JSON-ready dict in format version 1 (``health``: the
    health report of ``--verify-health``, null without it)."""
    summary = {word: result.count(Outcome.DONE, action) for word, action in _counted(result)}
    summary["failed"] = result.count(Outcome.FAILED)
    summary["skipped"] = result.count(Outcome.SKIPPED)
    return {
        "format_version": FORMAT_VERSION,
        "registry": result.registry,
        "outcome": outcome(result),
        "already_applied": result.already_applied,
        "summary": summary,
        "confirmed": result.unconfirmed is None,
        "unconfirmed_reason": result.unconfirmed,
        "entries": [
            {
                "id": entry.id,
                "action": entry.action.value,
                "outcome": entry.outcome.value,
                "detail": entry.detail,
                "status": entry.status,
                "wrote": entry.wrote,
                "restore": None if entry.restore is None else dict(entry.restore),
            }
            for entry in result.results
        ],
        "health": None if health is None else [_health_item(entry) for entry in health.entries],
    }


def _health_item(entry: EntryHealth) -> dict[str, Any]:
    rollback = entry.rollback
    return {
        "id": entry.id,
        "action": entry.action.value,
        "state": entry.state.value,
        "error": entry.error,
        "checked_at": entry.checked_at,
        "rollback": None
        if rollback is None
        else {"how": rollback.how, "succeeded": rollback.succeeded, "detail": rollback.detail},
    }


def render_result_json(result: ApplyResult, health: HealthReport | None = None) -> str:
    """The result as indented JSON text, ending with a newline."""
    return json.dumps(result_document(result, health), indent=2, ensure_ascii=False) + "\n"


RESULT_FORMATS: Mapping[str, Callable[[ApplyResult, HealthReport | None, View], str]] = {
    "text": lambda result, health, view: render_result_text(
        result, color=view.color, health=health
    ),
    "json": lambda result, health, _view: render_result_json(result, health),
}
"""The apply result's formats: ``apply --format``."""
