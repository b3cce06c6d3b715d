"""The Markdown plan: reviewed golden files, GitHub's own parser, and truncation."""

from __future__ import annotations

import dataclasses
import html
import re

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from paths import GOLDEN

from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.render.markdown import (
    COMMENT_LIMIT,
    MARKER,
    code_span,
    escape_text,
    render_markdown,
)
from registry_sync.render.text import format_value, summary_line
from registry_sync.testing import review_plan

HINT = "the `registry-sync-plan` artifact of [this workflow run](https://github.example/run/1)"


def hostile_plan() -> Plan:
    """Ids, paths and values that would break a table or inject HTML if not escaped."""
    return Plan(
        changes=(
            Change(
                "team:a|b<script>alert(1)</script>",
                Action.UPDATE,
                "fields *differ* | see <b>here</b> & `there`",
                file="models/odd|name.yaml",
                line=2,
                changes=(
                    FieldChange("displayName", ChangeKind.CHANGED, "a | b", "`tick` and ``two``"),
                    FieldChange("auth.headers[X|Y]", ChangeKind.CHANGED, "(sensitive)", "x"),
                    FieldChange("description", ChangeKind.ADDED, None, "<img src=x onerror=1>"),
                    FieldChange("odd\\|key", ChangeKind.ADDED, None, "back\\|slash"),
                    FieldChange("multi\nline", ChangeKind.REMOVED, {"a": "(sensitive)"}, None),
                ),
            ),
        ),
        models_dir="models",
        registry="https://registry.example",
    )


def many_plan(per_action: int) -> Plan:
    """``per_action`` entries of each writing action and conflicts, for truncation."""
    changes: list[Change] = []
    for index in range(per_action):
        changes.append(
            Change(
                f"c:{index:03}",
                Action.CREATE,
                "not in the registry",
                file=f"models/c{index}.yaml",
                line=1,
                body={"id": f"c:{index:03}", "contextWindow": 1000 + index},
            )
        )
        changes.append(
            Change(
                f"u:{index:03}",
                Action.UPDATE,
                "1 top-level field differs",
                file=f"models/u{index}.yaml",
                line=1,
                changes=(FieldChange("rpm", ChangeKind.CHANGED, 1, 2),),
            )
        )
        changes.append(Change(f"d:{index:03}", Action.DELETE, "not declared; --prune is set"))
        changes.append(
            Change(
                f"r:{index:03}",
                Action.READ_ONLY,
                "immutable on the server",
                file=f"models/r{index}.yaml",
                line=1,
                changes=(FieldChange("hidden", ChangeKind.ADDED, None, True),),
                conflict=True,
            )
        )
    changes.append(Change("x:unmanaged", Action.UNMANAGED, "left alone"))
    return Plan(changes=tuple(changes), models_dir="models", registry="https://r.example")


def to_html(markdown: str) -> str:
    # Unsafe keeps raw HTML (<details>, <summary>) as GitHub does; GitHub's own
    # sanitiser runs after, so what is checked here is what the Markdown produces.
    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def table_rows(rendered: str) -> list[list[str]]:
    """Every body row of every table, as the cells' inner HTML."""
    rows = re.findall(r"<tr>\n(.*?)</tr>", rendered, flags=re.DOTALL)
    return [re.findall(r"<td>(.*?)</td>", row, flags=re.DOTALL) for row in rows if "<td>" in row]


@pytest.mark.parametrize(
    ("plan", "golden"),
    [
        (review_plan(), "plan.md"),
        (hostile_plan(), "plan-escaping.md"),
        (
            dataclasses.replace(review_plan(), targets=("meetkai:*", "acme:chat"), untargeted=4),
            "plan-partial.md",
        ),
    ],
)
def test_markdown_matches_golden(plan: Plan, golden: str) -> None:
    assert render_markdown(plan) == (GOLDEN / golden).read_text(encoding="utf-8")


def test_headline_counts_and_marker_come_first() -> None:
    lines = render_markdown(review_plan()).splitlines()
    assert lines[0] == MARKER
    assert f"**{escape_text(summary_line(review_plan()))}**" in lines[:5]


def test_risky_entries_are_called_out_before_any_details_block() -> None:
    text = render_markdown(review_plan())
    caution = text.index("> [!CAUTION]")
    first_block = text.index("<details>")
    assert caution < first_block
    callouts = text[caution:first_block]
    # The conflict, the destructive and the breaking changes, each with its reasons.
    for entry in ("system:chat", "meetkai:old", "meetkai:embed", "meetkai:chat"):
        assert f"`{entry}`" in callouts
    assert "meetkai:new" not in callouts
    assert (
        "- 🟡 **breaking, update** `meetkai:chat` (`models/chat.yaml:1`): apiFormat changed "
        r'("responses" -\> "chat-completions")'
    ) in callouts


def test_blocks_are_ordered_by_risk_and_skip_in_sync_entries() -> None:
    text = render_markdown(review_plan())
    summaries = re.findall(r"<summary>.*?<code>(.*?)</code>", text)
    assert summaries == [
        "system:chat",
        "meetkai:old",
        "meetkai:embed",
        "meetkai:chat",
        "meetkai:new",
    ]
    assert "meetkai:same" not in text
    assert "system:embed" not in text


def test_tables_render_with_three_cells_and_values_verbatim() -> None:
    plan = hostile_plan()
    rendered = to_html(render_markdown(plan))
    rows = table_rows(rendered)
    change = plan.changes[0]
    assert len(rows) == len(change.changes)
    for row, item in zip(rows, change.changes, strict=True):
        assert len(row) == 3, row
        assert _code_text(row[0]) == item.path
        if item.before is not None:
            assert _code_text(row[1]) == format_value(item.before)
        if item.after is not None:
            assert _code_text(row[2]) == format_value(item.after)


def test_nothing_from_the_plan_becomes_html() -> None:
    rendered = to_html(render_markdown(hostile_plan()))
    assert "<script>" not in rendered
    assert "<img" not in rendered
    assert "<b>" not in rendered
    assert "<em>differ</em>" not in rendered
    summary = re.search(r"<summary>(.*?)</summary>", rendered)
    assert summary is not None
    assert html.unescape(re.sub(r"</?code>", "", summary.group(1))).startswith(
        "🟡 team:a|b<script>alert(1)</script> will be updated"
    )
    reason = "fields *differ* | see <b>here</b> & `there`"
    assert f"<em>{html.escape(reason)}</em>" in rendered


def test_secrets_stay_sensitive() -> None:
    text = render_markdown(review_plan())
    assert "| `auth.value` | `(sensitive)` | *(removed)* |" in text


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("`edge`", "`` `edge` ``"),
        ("a|b", "`a|b`"),
    ],
)
def test_code_span(text: str, span: str) -> None:
    assert code_span(text) == span


def test_code_span_in_a_table_escapes_pipes() -> None:
    assert code_span("a|b", table=True) == "`a\\|b`"


def test_no_changes() -> None:
    plan = Plan(changes=(), models_dir="models", registry="file:r.json")
    assert render_markdown(plan) == (
        f"{MARKER}\n### registry-sync plan\n\n"
        "**No changes. The registry matches models/.**\n\n"
        "The snapshot `r.json` (offline; cannot be applied) (registry API), models in "
        "`models/`.\n"
    )


def test_under_the_limit_nothing_is_left_out() -> None:
    text = render_markdown(many_plan(3), artifact_hint=HINT)
    assert "Not shown" not in text
    assert len(text) < COMMENT_LIMIT


@pytest.mark.parametrize("limit", [1500, 3000, 6000])
def test_truncation_keeps_headline_and_riskiest_entries(limit: int) -> None:
    plan = many_plan(20)
    full = render_markdown(plan)
    text = render_markdown(plan, limit=limit, artifact_hint=HINT)
    assert len(text) <= limit < len(full)
    assert text.startswith(full[: full.index("> [!CAUTION]")])

    shown = re.findall(r"<summary>.*?<code>(.*?)</code>", text)
    kinds = [entry[0] for entry in shown]
    # Riskiest first: conflicts (r), deletes (d), then updates (u), creates (c).
    assert kinds == sorted(kinds, key="rduc".index)
    note = re.search(r"\*\*Not shown:\*\* (\d+) entries", text)
    assert note is not None
    assert int(note.group(1)) == 80 - len(shown)
    assert "the list of unmanaged entries" in text
    assert f"The full plan is in {HINT}." in text


def test_truncation_counts_by_action() -> None:
    text = render_markdown(many_plan(20), limit=6000, artifact_hint=HINT)
    shown = re.findall(r"<summary>.*?<code>(.*?)</code>", text)
    assert all(entry.startswith("r:") for entry in shown)
    conflicts_left = 20 - len(shown)
    assert (
        f"{conflicts_left + 60} entries ({conflicts_left} read-only conflicts, 20 deletes, "
        "20 updates, 20 creates)"
    ) in text


def test_truncation_without_a_hint_says_how_to_see_the_plan() -> None:
    text = render_markdown(many_plan(20), limit=3000)
    assert text.rstrip().endswith("Run `registry-sync plan` to see the full plan.")


def test_truncated_markdown_still_parses_cleanly() -> None:
    text = render_markdown(many_plan(20), limit=6000, artifact_hint=HINT)
    rendered = to_html(text)
    assert rendered.count("<details>") == rendered.count("</details>")
    assert "<blockquote>" in rendered


def _code_text(cell: str) -> str:
    match = re.fullmatch(
        r"<code>(.*?)</code>( <strong>forces replacement</strong>)?", cell, flags=re.DOTALL
    )
    assert match is not None, cell
    return html.unescape(match.group(1))


class _NeverRendered:
    """A value that fails the test if a renderer ever formats it."""

    def __repr__(self) -> str:
        raise AssertionError("an entry past the size budget was rendered")

    __str__ = __repr__


def test_rendering_stops_once_the_size_budget_is_spent() -> None:
    creates = tuple(
        Change(
            f"c:{index:05}",
            Action.CREATE,
            "not in the registry",
            file=f"models/c{index}.yaml",
            line=1,
            body={"id": f"c:{index:05}", "note": "x" * 100 if index < 1_000 else _NeverRendered()},
        )
        for index in range(10_000)
    )
    plan = Plan(changes=creates, models_dir="models", registry="https://r.example")
    text = render_markdown(plan, artifact_hint=HINT)
    assert len(text) <= COMMENT_LIMIT
    shown = len(re.findall(r"<summary>", text))
    assert 100 < shown < 1_000
    assert f"{10_000 - shown} entries ({10_000 - shown} creates)" in text
