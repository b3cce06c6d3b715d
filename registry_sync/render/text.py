"""The human plan, in the manner of ``terraform plan``.

First the partial-plan notice (``--target``), the violations (what apply would
refuse), then one block per entry that changes (or conflicts), each field as
``before -> after``, a create's fields as ``path = value`` (nested objects
flattened to the paths updates show), risky ones marked with their risk class and
its reasons; ``compact`` gives one line per entry instead. Then the unmanaged
entries; then the closing summary and the risk counts. Colour (ANSI) only when the
caller asks for it: the CLI decides that from the terminal and ``NO_COLOR``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan, Risk
from registry_sync.printable import printable, printable_lines
from registry_sync.schema.secrets import SENSITIVE
from registry_sync.schema.values import format_path

__all__ = [
    "REMOVED",
    "SET_AT_APPLY",
    "created_fields",
    "down_note",
    "format_value",
    "header_line",
    "registry_name",
    "render_text",
    "risk_line",
    "serving_note",
    "summary_line",
    "target_line",
    "touched_fields",
    "unchanged_line",
    "unknown_fields_line",
]

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_MAGENTA = "\x1b[35m"
_DIM = "\x1b[2m"

_HEADS: dict[Action, tuple[str, str, str]] = {
    # action: (symbol, phrase, colour)
    Action.CREATE: ("+", "will be created", _GREEN),
    Action.UPDATE: ("~", "will be updated in place", _YELLOW),
    Action.REPLACE: ("-/+", "must be replaced", _MAGENTA),
    Action.DELETE: ("-", "will be deleted", _RED),
    Action.READ_ONLY: ("!", "is read-only on the server: CONFLICT", _RED),
    Action.ACTIVATE: (">", "will be activated", _GREEN),
    Action.DEACTIVATE: ("<", "will be deactivated", _RED),
}
# Longer values print as indented JSON, so a reviewer can read nested blocks.
_FLAT_LIMIT = 72
# Paths of a create's fields align up to this width; longer ones stick out.
_ALIGN_LIMIT = 32
# A compact line is cut to fit a terminal of this width.
_COMPACT_WIDTH = 80
_FIELD_MARKS = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}
_FIELD_COLOURS = {ChangeKind.ADDED: _GREEN, ChangeKind.REMOVED: _RED, ChangeKind.CHANGED: _YELLOW}
_RISK_COLOURS = {Risk.DESTRUCTIVE: _RED, Risk.BREAKING: _MAGENTA, Risk.SAFE: _DIM}
# The order a reviewer reads in: the things that cannot or must not be missed first.
_BLOCK_ORDER = (
    Action.READ_ONLY,
    Action.DELETE,
    Action.DEACTIVATE,
    Action.REPLACE,
    Action.UPDATE,
    Action.ACTIVATE,
    Action.CREATE,
)


def render_text(plan: Plan, *, color: bool = False, compact: bool = False) -> str:
    """The plan as terminal text, ending with a newline. ``compact`` prints one line
    per entry (mark, id, fields touched) instead of one block."""
    paint = _Painter(color)
    lines: list[str] = []
    if plan.environment is not None:
        lines.append(paint(_BOLD, printable(f"Environment {plan.environment} ({plan.registry})")))
        if plan.environment_api_url is not None:
            lines.append(
                "--api-url replaces this environment's api_url "
                f"{printable(plan.environment_api_url)}."
            )
        lines.append("")
    if plan.partial:
        lines.extend([paint(_BOLD, target_line(plan)), ""])
    shown = [
        c
        for c in plan.changes
        if c.action in _HEADS and (c.conflict or c.action is not Action.READ_ONLY)
    ]

    if plan.violations:
        count = len(plan.violations)
        noun = _plural(count, "violation", "violations")
        lines.append(paint(_RED, f"Violations: apply will refuse this plan ({count} {noun}):"))
        lines.extend(
            f"  {paint(_RED, 'x')} {printable(violation.rule)}: {printable(violation.message)}"
            for violation in plan.violations
        )
        lines.append("")
    if shown:
        lines.append(header_line(plan))
        lines.append("")
        for action in _BLOCK_ORDER:
            for change in shown:
                if change.action is action and compact:
                    lines.append(_compact_line(change, paint))
                elif change.action is action:
                    lines.extend(_block(change, paint))
                    lines.append("")
        if compact:
            lines.append("")
    unmanaged = [c for c in plan.changes if c.action is Action.UNMANAGED]
    if unmanaged:
        lines.append(
            f"Unmanaged: {len(unmanaged)} live {_plural(len(unmanaged), 'entry', 'entries')} "
            f"not declared in {plan.models_dir}/ (left alone; --prune deletes them):"
        )
        lines.extend(f"  {paint(_DIM, '?')} {printable(change.id)}" for change in unmanaged)
        lines.append("")
    lines.append(paint(_BOLD, summary_line(plan)))
    if plan.writes:
        lines.append(risk_line(plan))
    unchanged = unchanged_line(plan)
    if unchanged:
        lines.append(unchanged)
    unknown = unknown_fields_line(plan)
    if unknown:
        lines.append(unknown)
    return "\n".join(lines) + "\n"


def registry_name(registry: str) -> str:
    """How a plan's registry reads: its URL, or the snapshot file it was made from."""
    if registry.startswith("file:"):
        return f"the snapshot {printable(registry[len('file:') :])} (offline; cannot be applied)"
    return printable(registry)


def header_line(plan: Plan) -> str:
    """The line above the entries: what would be done, where, and which API the
    registry speaks."""
    if plan.registry.startswith("file:"):
        return f"Plan against {registry_name(plan.registry)} ({plan.api} API):"
    return (
        "registry-sync will perform the following actions on "
        f"{registry_name(plan.registry)} ({plan.api} API):"
    )


def target_line(plan: Plan) -> str:
    """Says a ``--target`` plan is partial, and what it left out; "" for a full plan."""
    if not plan.partial:
        return ""
    patterns = " ".join(f"--target {printable(pattern)}" for pattern in plan.targets)
    left = (
        f"; {plan.untargeted} other mutable live "
        f"{_plural(plan.untargeted, 'entry was', 'entries were')} not compared"
        if plan.untargeted
        else ""
    )
    return f"Partial plan: only ids matching {patterns} are planned{left}."


def unknown_fields_line(plan: Plan) -> str:
    """Names the live fields this version cannot compare, so no reviewer assumes it did."""
    if not plan.unknown_live_fields:
        return ""
    names = printable(", ".join(plan.unknown_live_fields))
    return (
        f"Not compared: live {_plural(len(plan.unknown_live_fields), 'field', 'fields')} "
        f"this version of registry-sync does not know: {names}."
    )


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, ...`` or ``No changes. ...``; shared by every renderer."""
    counts = plan.summary()
    if not plan.has_changes:
        unmanaged = f" {counts['unmanaged']} unmanaged." if counts["unmanaged"] else ""
        which = "The targeted entries match" if plan.partial else "The registry matches"
        return f"No changes. {which} {printable(plan.models_dir)}/.{unmanaged}"
    conflicts = _plural(counts["conflict"], "conflict", "conflicts")
    tail = f"{counts['conflict']} read-only {conflicts}, {counts['unmanaged']} unmanaged."
    serving = (
        f", {counts['activate']} to activate, {counts['deactivate']} to deactivate"
        if plan.api == "catalog"
        else ""
    )
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['replace']} to replace, {counts['delete']} to delete{serving}. {tail}"
    )


def risk_line(plan: Plan) -> str:
    """``Risk: 1 destructive, 2 breaking.``: the writes in each risky class."""
    counts = plan.risk_counts()
    return (
        f"Risk: {counts[Risk.DESTRUCTIVE.value]} destructive, "
        f"{counts[Risk.BREAKING.value]} breaking."
    )


def unchanged_line(plan: Plan) -> str:
    """What the plan does not list: entries in sync and undeclared immutable ones."""
    counts = plan.summary()
    in_sync_read_only = counts["read-only"] - counts["conflict"]
    parts = []
    if counts["no-op"]:
        parts.append(f"{counts['no-op']} in sync")
    if in_sync_read_only:
        parts.append(f"{in_sync_read_only} read-only in sync")
    if counts["immutable-undeclared"]:
        parts.append(
            f"{counts['immutable-undeclared']} immutable server "
            f"{_plural(counts['immutable-undeclared'], 'entry', 'entries')} not declared"
        )
    return f"Not listed: {', '.join(parts)}." if parts else ""


def _block(change: Change, paint: _Painter) -> list[str]:
    symbol, phrase, colour = _HEADS[change.action]
    where = f"{printable(change.file)}:{change.line}" if change.file else "not in models/"
    mark = (
        f" {paint(_RISK_COLOURS[change.risk], f'[{change.risk.value}]')}"
        if change.risk is not Risk.SAFE
        else ""
    )
    where = paint(_DIM, f"({where})")
    shown_id = paint(_BOLD, printable(change.id))
    lines = [f"  {paint(colour, symbol)} {shown_id} {phrase}{mark}  {where}"]
    lines.append(f"      {paint(_DIM, '# ' + printable(change.reason))}")
    down = down_note(change)
    if down:
        lines.append(f"      {paint(_RED, '!')} {paint(_RED, printable(down))}")
    lines.extend(
        f"      {paint(_RISK_COLOURS[change.risk], '!')} {printable(reason)}"
        for reason in change.risk_reasons
    )
    serving = serving_note(change)
    if serving:
        mark = paint(_GREEN if change.activate else _RED, ">")
        lines.append(f"      {mark} {printable(serving)}")
    if change.action is Action.CREATE and change.body is not None:
        lines.extend(_created_fields(change.body, paint))
    for item in change.changes:
        lines.append("      " + _field_line(item, paint))
    return lines


def serving_note(change: Change) -> str:
    """What apply does to who serves the name (the catalog generation), for one line;
    empty when nothing. Shared by every renderer."""
    if change.deactivate is not None and change.activate is not None:
        return (
            f"serve the name: deactivate it from {change.deactivate}, then activate it "
            f"from {change.activate}"
        )
    if change.activate is not None:
        return f"serve the name: activate it from {change.activate}"
    if change.deactivate is not None:
        return f"stop serving the name: deactivate it from {change.deactivate}"
    return ""


def down_note(change: Change) -> str:
    """``this model is down now (...): error`` for an entry the registry reports
    unavailable, empty otherwise; shared by every renderer."""
    health = change.live_health
    if health is None or health.is_available:
        return ""
    checked = health.last_health_check
    when = (
        ""
        if checked is None
        else " (last health check "
        + datetime.fromtimestamp(checked / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        + ")"
    )
    return f"this model is down now{when}: {health.error or 'the registry gives no reason'}"


def _created_fields(body: Mapping[str, Any], paint: _Painter) -> list[str]:
    fields = created_fields(body)
    width = min(max(len(path) for path, _ in fields), _ALIGN_LIMIT)
    mark = paint(_GREEN, "+")
    return [f"      {mark} {printable(path).ljust(width)} = {value}" for path, value in fields]


def created_fields(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A create's fields as ``(path, value)``, nested objects flattened to the paths
    updates show (``capabilities.modalities.input``); a list of plain values stays one
    value. A ``created`` the file omits reads ``(set at apply)``."""
    found: list[tuple[str, str]] = []
    for key, value in body.items():
        _flatten([key], value, found)
    if "created" not in body:
        found.append(("created", SET_AT_APPLY))
    return found


def _flatten(keys: list[str | int], value: Any, found: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten([*keys, key], item, found)
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for index, item in enumerate(value):
            _flatten([*keys, index], item, found)
    else:
        found.append((format_path(keys), format_value(value)))


def touched_fields(change: Change) -> str:
    """What an entry's write touches, for one line: the top-level fields that differ,
    or for a create how many fields it sets."""
    if change.action is Action.CREATE and change.body is not None:
        count = len(created_fields(change.body))
        return f"{count} {_plural(count, 'field', 'fields')}"
    if change.action is Action.DELETE:
        return "whole entry"
    if change.action is Action.REPLACE and not change.changes:
        return "re-created as declared"
    if change.action in (Action.ACTIVATE, Action.DEACTIVATE):
        return serving_note(change)
    return ", ".join(dict.fromkeys(_top_key(item.path) for item in change.changes))


def _top_key(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _compact_line(change: Change, paint: _Painter) -> str:
    symbol, _, colour = _HEADS[change.action]
    risk = f" [{change.risk.value}]" if change.risk is not Risk.SAFE else ""
    conflict = " CONFLICT" if change.conflict else ""
    conflict += " DOWN NOW" if down_note(change) else ""
    shown_id = printable(change.id)
    head = f"{symbol.rjust(3)} {shown_id}{risk}{conflict}"
    detail = printable(touched_fields(change))
    room = _COMPACT_WIDTH - len(head) - 2
    if len(detail) > room:
        detail = detail[: max(room - 1, 0)] + "…"
    painted = f"{paint(colour, symbol.rjust(3))} {paint(_BOLD, shown_id)}"
    if risk:
        painted += paint(_RISK_COLOURS[change.risk], risk)
    if conflict:
        painted += paint(_RED, conflict)
    return f"{painted}  {paint(_DIM, detail)}" if detail else painted


def _block_value(value: Any, *, indent: int) -> str:
    """A value on one line when short, else as indented JSON under its field."""
    flat = format_value(value)
    if len(flat) <= _FLAT_LIMIT or not isinstance(value, (dict, list)):
        return flat
    nested = json.dumps(value, ensure_ascii=False, indent=2)
    nested = printable_lines(nested.replace(json.dumps(SENSITIVE), SENSITIVE))
    return nested.replace("\n", "\n" + " " * indent)


def _field_line(item: FieldChange, paint: _Painter) -> str:
    mark = paint(_FIELD_COLOURS[item.kind], _FIELD_MARKS[item.kind])
    path = printable(item.path)
    indent = 8 + len(path) + 2
    before = _block_value(item.before, indent=indent)
    after = _block_value(item.after, indent=indent)
    if item.kind is ChangeKind.ADDED:
        text = f"{mark} {path}: {after}"
    elif item.kind is ChangeKind.REMOVED:
        text = f"{mark} {path}: {before} -> {REMOVED}"
    else:
        text = f"{mark} {path}: {before} -> {after}"
    if item.origin is not None:
        text += "  " + paint(_DIM, printable(f"({item.origin})"))
    return text


# How a field cleared by the write, and a create's apply-time stamp, read.
REMOVED = "(removed)"
SET_AT_APPLY = "(set at apply)"


def format_value(value: Any) -> str:
    """A value as a reviewer reads it: JSON, except ``(sensitive)`` stays bare; on one
    line, with every unprintable character escaped (JSON leaves C1 controls and bidi
    overrides as they are)."""
    if value == SENSITIVE:
        return SENSITIVE
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return printable(text.replace(json.dumps(SENSITIVE), SENSITIVE))


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled else text
