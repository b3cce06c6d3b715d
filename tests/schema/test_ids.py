"""The id rule (schema/ids.py): what it refuses, and that every id it accepts reads
back unchanged from its path segment and its query value."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.schema.ids import (
    UnaddressableId,
    id_problem,
    id_query,
    id_segment,
    shown_id,
    unaddressable_warning,
)


@pytest.mark.parametrize(
    ("model_id", "problem"),
    [
        ("", "should not be empty"),
        (".", "should not be '.'"),
        ("..", "should not be '..'"),
        ("a b", "but character 2 is U+0020"),
        ("a\nb", "but character 2 is U+000A"),
        ("a\x7f", "but character 2 is U+007F"),
        ("a\x85b", "but character 2 is U+0085"),
        ("ab\u2028", "but character 3 is U+2028"),
        ("\u202eab", "but character 1 is U+202E"),
        ("a\u200bb", "but character 2 is U+200B"),
        ("a\ud800", "but character 2 is U+D800"),
        ("a\u00a0b", "but character 2 is U+00A0"),
    ],
)
def test_refused_ids_say_why_without_repeating_the_id(model_id: str, problem: str) -> None:
    found = id_problem(model_id)
    assert found is not None and problem in found
    with pytest.raises(UnaddressableId):
        id_segment(model_id)
    with pytest.raises(UnaddressableId):
        id_query(model_id)


@pytest.mark.parametrize(
    ("model_id", "segment"),
    [
        ("meetkai:chat-v1", "meetkai%3Achat-v1"),
        ("a/b", "a%2Fb"),
        ("...", "..."),
        (".a", ".a"),
        ("x?y=1#z&w", "x%3Fy%3D1%23z%26w"),
        ("50%", "50%25"),
        ("p+q", "p%2Bq"),
        ("ü~", "%C3%BC~"),
    ],
)
def test_odd_ids_are_one_encoded_segment(model_id: str, segment: str) -> None:
    assert id_problem(model_id) is None
    assert id_segment(model_id) == segment
    assert id_query(model_id) == f"?id={segment}"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=24))
def test_every_accepted_id_reads_back_unchanged(model_id: str) -> None:
    if id_problem(model_id) is not None:
        return
    segment = id_segment(model_id)
    assert "/" not in segment and segment not in (".", "..")
    assert unquote(segment, errors="strict") == model_id
    assert parse_qs(id_query(model_id)[1:], strict_parsing=True) == {"id": [model_id]}


def test_the_warning_names_each_id_escaped_on_one_line() -> None:
    warning = unaddressable_warning(["..", "a\n\x1b[8mb"])
    assert "\n" not in warning and "\x1b" not in warning
    assert f"{shown_id('..')}, {shown_id(chr(97) + chr(10) + chr(27) + '[8mb')}" in warning
    assert warning.startswith("warning: 2 live entries left out")


def test_the_warning_about_one_entry_speaks_of_it() -> None:
    assert unaddressable_warning(["."]) == (
        "warning: 1 live entry left out, its id not safely addressable (an id is not "
        "empty, not '.' or '..', and holds no whitespace, control or invisible format "
        "character): '.'; registry-sync never writes it (prune included): fix or remove "
        "it with the registry's own tools"
    )
