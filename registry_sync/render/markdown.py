"""The plan as a pull-request comment (GitHub-flavoured Markdown).

Layout, top to bottom: a hidden marker (so a bot finds and updates its own comment),
the headline with the counts and the risk, the violations (what apply would refuse),
a caution block naming every read-only conflict and every destructive and breaking
change with its reasons (the things a reviewer must not miss), a Mermaid picture of
the reroute rules the plan changes, then one collapsed ``<details>`` block per
changed entry (riskiest first) with a ``field | before | after`` table, and last the
unmanaged entries.

A comment has a size limit (GitHub: 65,536 characters). Past ``limit`` the headline
is kept, entries are kept riskiest first, and a closing note says how many were left
out and where the full plan is.

Everything that comes from files or the server is escaped for the context it lands
in: code spans in tables (pipes escaped), HTML in ``<summary>``, backslash escapes in
prose. Secrets are already ``(sensitive)`` in the plan and stay so.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, partial

from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan, Risk
from registry_sync.render.graph import plan_diagram
from registry_sync.render.text import (
    REMOVED,
    SET_AT_APPLY,
    created_fields,
    down_note,
    format_value,
    risk_line,
    serving_note,
    summary_line,
    target_line,
    unchanged_line,
    unknown_fields_line,
)

__all__ = ["COMMENT_LIMIT", "MARKER", "code_span", "escape_text", "render_markdown"]

MARKER = "<!-- registry-sync-plan -->"
COMMENT_LIMIT = 65536

# The order a reviewer reads in, and the order entries are kept in when truncating.
_RISK_ORDER = (
    Action.READ_ONLY,
    Action.DELETE,
    Action.DEACTIVATE,
    Action.REPLACE,
    Action.UPDATE,
    Action.ACTIVATE,
    Action.CREATE,
)
# Conflicts, then destructive, then breaking changes: what a reviewer reads first.
_RISK_RANK = {Risk.DESTRUCTIVE: 1, Risk.BREAKING: 2, Risk.SAFE: 3}
_HEADS: dict[Action, tuple[str, str]] = {
    # action: (icon, phrase after the id)
    Action.READ_ONLY: ("⛔", "is read-only on the server: CONFLICT"),
    Action.DELETE: ("🔴", "will be deleted"),
    Action.REPLACE: ("🟣", "must be replaced (delete, then re-create)"),
    Action.UPDATE: ("🟡", "will be updated in place"),
    Action.CREATE: ("🟢", "will be created"),
    Action.ACTIVATE: ("🔼", "will be activated"),
    Action.DEACTIVATE: ("🔽", "will be deactivated"),
}
_NOUNS: dict[Action, tuple[str, str]] = {
    Action.READ_ONLY: ("read-only conflict", "read-only conflicts"),
    Action.DELETE: ("delete", "deletes"),
    Action.REPLACE: ("replace", "replaces"),
    Action.UPDATE: ("update", "updates"),
    Action.CREATE: ("create", "creates"),
    Action.ACTIVATE: ("activation", "activations"),
    Action.DEACTIVATE: ("deactivation", "deactivations"),
}
_ABSENT = "*(absent)*"
# Characters that mean something inline in Markdown; ``#``, ``-``, ``+`` and digits
# only matter at the start of a line, where prose never stands here.
_PROSE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


@dataclass
class _Piece:
    """One unit that is kept or left out whole when truncating, rendered only when
    asked for: once the size limit is reached, the rest are counted, never rendered."""

    render: Callable[[], str]
    change: Change | None = None
    unmanaged: bool = False

    @cached_property
    def text(self) -> str:
        return self.render()


def render_markdown(
    plan: Plan,
    *,
    limit: int = COMMENT_LIMIT,
    artifact_hint: str | None = None,
    top: str = MARKER,
    footer: str = "",
) -> str:
    """The plan as a Markdown comment of at most ``limit`` characters, ending with a newline.

    ``top`` is the first line (the hidden marker) and ``footer`` Markdown that ends
    the comment, after the last block: both count towards ``limit``, so a caller
    that adds them passes the final budget and never cuts the text again. Past
    ``limit`` whole blocks are left out (every ``<details>`` opened is closed), a
    note says how many and where the full plan is, and the footer still comes last.
    The top, the headline and the footer are always kept, so a ``limit`` smaller
    than those (a few hundred characters) is exceeded. ``artifact_hint`` is Markdown
    naming where the full plan is (for example the workflow run's artifact); it is
    shown only when entries were left out.
    """
    shown = sorted(
        (
            c
            for c in plan.changes
            if c.action in _HEADS and (c.conflict or c.action is not Action.READ_ONLY)
        ),
        key=_review_order,
    )
    head = _headline(plan, top)
    tail = f"\n\n{footer.rstrip()}\n" if footer else "\n"
    pieces = list(_callouts(shown))
    diagram = plan_diagram(plan)
    if diagram is not None:
        section = f"\n\n#### Reroute rules this plan changes\n\n{diagram}"
        pieces.append(_Piece(lambda: section))
    pieces.extend(_Piece(partial(_block, change), change) for change in shown)
    unmanaged = [c for c in plan.changes if c.action is Action.UNMANAGED]
    if unmanaged:
        pieces.append(_Piece(partial(_unmanaged_block, plan, unmanaged), unmanaged=True))

    size = len(head) + len(tail)
    for piece in pieces:
        size += len(piece.text)
        if size > limit:
            body = _truncated(head, pieces, shown, limit - len(tail), artifact_hint)
            return body + tail
    return head + "".join(piece.text for piece in pieces) + tail


def _review_order(change: Change) -> tuple[int, int]:
    rank = 0 if change.conflict else _RISK_RANK[change.risk]
    return rank, _RISK_ORDER.index(change.action)


def _truncated(
    head: str, pieces: list[_Piece], shown: list[Change], limit: int, artifact_hint: str | None
) -> str:
    # The note's length with every entry left out bounds its length in any case.
    budget = limit - len(head) - len(_left_out_note(shown, True, artifact_hint))
    kept: list[_Piece] = []
    used = 0
    for piece in pieces:
        # Stop at the first piece that does not fit: a smaller, less risky one
        # further on must not take the place of a riskier one.
        if used + len(piece.text) > budget:
            break
        kept.append(piece)
        used += len(piece.text)
    dropped = pieces[len(kept) :]
    left_out = [piece.change for piece in dropped if piece.change is not None]
    unmanaged_left_out = any(piece.unmanaged for piece in dropped)
    note = _left_out_note(left_out, unmanaged_left_out, artifact_hint)
    return head + "".join(piece.text for piece in kept) + note


def _left_out_note(left_out: list[Change], unmanaged: bool, artifact_hint: str | None) -> str:
    counts = []
    for action in _RISK_ORDER:
        count = sum(1 for change in left_out if change.action is action)
        if count:
            counts.append(f"{count} {_plural(count, *_NOUNS[action])}")
    parts = []
    if left_out:
        entries = _plural(len(left_out), "entry", "entries")
        parts.append(f"{len(left_out)} {entries} ({', '.join(counts)})")
    if unmanaged:
        parts.append("the list of unmanaged entries")
    where = (
        f"The full plan is in {artifact_hint}."
        if artifact_hint
        else "Run `registry-sync plan` to see the full plan."
    )
    return (
        f"\n\n---\n\n**Not shown:** {' and '.join(parts)}, to keep this comment within "
        f"the size limit. {where}"
    )


def _headline(plan: Plan, top: str) -> str:
    lines = [top, "### registry-sync plan", ""]
    if plan.partial:
        lines.extend(["> [!WARNING]", f"> **{escape_text(target_line(plan))}**", ""])
    lines.extend([f"**{escape_text(summary_line(plan))}**", ""])
    if plan.writes:
        lines.extend([f"**{escape_text(risk_line(plan))}**", ""])
    if plan.registry.startswith("file:"):
        where = (
            f"The snapshot {code_span(plan.registry[len('file:') :])} (offline; cannot be applied)"
        )
    else:
        where = f"Registry {code_span(plan.registry)}"
    context = f"{where} ({plan.api} API), models in {code_span(plan.models_dir + '/')}."
    if plan.environment is not None:
        context = f"Environment {code_span(plan.environment)}. {context}"
        if plan.environment_api_url is not None:
            context += (
                f" --api-url replaces this environment's api_url "
                f"{code_span(plan.environment_api_url)}."
            )
    unchanged = unchanged_line(plan)
    if unchanged:
        context += f" {escape_text(unchanged)}"
    unknown = unknown_fields_line(plan)
    if unknown:
        context += f" {escape_text(unknown)}"
    lines.append(context)
    if plan.violations:
        count = len(plan.violations)
        lines.extend(
            [
                "",
                "> [!CAUTION]",
                f"> **Apply will refuse this plan ({count} "
                f"{_plural(count, 'violation', 'violations')}):**",
            ]
        )
        for violation in plan.violations:
            about = f" {code_span(violation.id)}" if violation.id else ""
            lines.append(f"> - ⛔ **{violation.rule}**{about}: {escape_text(violation.message)}")
    return "\n".join(lines)


def _callouts(shown: list[Change]) -> Iterable[_Piece]:
    risky = [c for c in shown if c.conflict or c.risk is not Risk.SAFE]
    if not risky:
        return
    yield _Piece(lambda: "\n\n> [!CAUTION]\n> **Review before approving:**")
    for change in risky:
        yield _Piece(partial(_callout, change))


def _callout(change: Change) -> str:
    icon, _ = _HEADS[change.action]
    if change.conflict:
        label, reason = "read-only conflict, blocks apply", escape_text(change.reason)
    else:
        label = f"{change.risk.value}, {_NOUNS[change.action][0]}"
        reason = escape_text("; ".join(change.risk_reasons))
    return f"\n> - {icon} **{label}** {code_span(change.id)}{_where(change)}: {reason}"


def _block(change: Change) -> str:
    icon, phrase = _HEADS[change.action]
    where = f" ({_html(_location(change))})" if change.file else ""
    summary = f"{icon} <code>{_html(change.id)}</code> {phrase}{where}"
    reason = f"*{escape_text(change.reason)}*"
    down = down_note(change)
    if down:
        summary += " · <b>this model is down now</b>"
    lines = ["", "", "<details>", f"<summary>{summary}</summary>", "", reason]
    if down:
        lines.extend(["", f"**{escape_text(down)}**"])
    if change.risk is not Risk.SAFE:
        reasons = escape_text("; ".join(change.risk_reasons))
        lines.extend(["", f"**{change.risk.value}:** {reasons}"])
    serving = serving_note(change)
    if serving:
        lines.extend(["", escape_text(serving[0].upper() + serving[1:]) + "."])
    rows = _rows(change)
    if rows:
        lines.extend(["", "| field | before | after |", "| --- | --- | --- |", *rows])
    lines.extend(["", "</details>"])
    return "\n".join(lines)


def _rows(change: Change) -> list[str]:
    rows: list[str] = []
    if change.action is Action.CREATE and change.body is not None:
        for path, value in created_fields(change.body):
            shown = f"*{SET_AT_APPLY}*" if value == SET_AT_APPLY else code_span(value, table=True)
            rows.append(f"| {code_span(path, table=True)} | {_ABSENT} | {shown} |")
    rows.extend(_row(item) for item in change.changes)
    return rows


def _row(item: FieldChange) -> str:
    before = _ABSENT if item.kind is ChangeKind.ADDED else _value(item.before)
    after = f"*{REMOVED}*" if item.kind is ChangeKind.REMOVED else _value(item.after)
    path = code_span(item.path, table=True)
    if item.origin is not None:
        # Set by an environment's overlay: say where, so review goes to that line.
        path += f" ({code_span(item.origin, table=True)})"
    return f"| {path} | {before} | {after} |"


def _unmanaged_block(plan: Plan, unmanaged: list[Change]) -> str:
    count = len(unmanaged)
    summary = html.escape(
        f"{count} unmanaged {_plural(count, 'entry', 'entries')}: live, not declared in "
        f"{plan.models_dir}/ (left alone; --prune deletes them)"
    )
    items = [f"- {code_span(change.id)}" for change in unmanaged]
    return "\n".join(
        ["", "", "<details>", f"<summary>{summary}</summary>", "", *items, "", "</details>"]
    )


def _value(value: object) -> str:
    return code_span(format_value(value), table=True)


def _where(change: Change) -> str:
    return f" ({code_span(_location(change))})" if change.file else ""


def _location(change: Change) -> str:
    return f"{change.file}:{change.line}" if change.line is not None else str(change.file)


def code_span(text: str, *, table: bool = False) -> str:
    """``text`` shown literally: a code span, or ``<code>`` with entities when a span
    cannot hold it. ``table`` escapes pipes for a table cell."""
    if "\n" in text or "\r" in text:
        # A code span cannot hold a line break in a table row. Every ASCII punctuation
        # character as an entity: nothing is read as Markdown, HTML or a cell border.
        escaped = "".join(f"&#{ord(c)};" if _is_special(c) else c for c in text)
        return f"<code>{escaped}</code>"
    if table:
        # GitHub's table parser takes any backslash-pipe as an escaped pipe and drops
        # that one backslash, inside code spans too: the span then shows ``text``.
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # A span that starts or ends with a backtick or a space needs padding, or the
    # space (or the fence) would be read differently.
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _is_special(char: str) -> bool:
    return (char.isascii() and not char.isalnum() and char != " ") or char in "\n\r"


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "&#10;").replace("\r", "&#13;")


def escape_text(text: str) -> str:
    """``text`` as inline Markdown prose that shows as written, on one line."""
    return _PROSE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
