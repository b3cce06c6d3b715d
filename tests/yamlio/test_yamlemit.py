"""libyaml's emitter with the list indentation of export's Python emitter: same text."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.export.files import _Dumper, _LibyamlDumper, render_definition
from registry_sync.yamlio.emit import fits_libyaml, indent_sequences

TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=10)
TRICKY = st.sampled_from(
    ["x: |", "true", "12", "a |", "|", " lead", "trail ", "#c", "a: b", "- x", "-", "null", "~"]
)
STRINGS = TEXT | TRICKY
SCALARS = st.none() | st.booleans() | st.integers(-5, 10**20) | st.floats() | STRINGS
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(STRINGS, inner, max_size=3),
    max_leaves=15,
)
OPTIONS: dict[str, Any] = {
    "sort_keys": False,
    "default_flow_style": False,
    "allow_unicode": True,
    "width": 1_000_000,
}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(STRINGS, VALUES, max_size=5))
def test_libyaml_with_indented_lists_writes_what_the_python_emitter_writes(
    value: dict[str, Any],
) -> None:
    assert _LibyamlDumper is not None
    assert fits_libyaml(value)
    fast = indent_sequences(yaml.dump(value, Dumper=_LibyamlDumper, **OPTIONS))
    assert fast == yaml.dump(value, Dumper=_Dumper, **OPTIONS)


def test_lists_move_under_their_key_and_block_scalars_keep_their_text() -> None:
    text = "a:\n- x\n- k: |\n    - not a list\n    b:\n  l:\n  - 1\nb: 2\n"
    assert indent_sequences(text) == (
        "a:\n  - x\n  - k: |\n      - not a list\n      b:\n    l:\n      - 1\nb: 2\n"
    )


def test_what_the_emitters_may_write_differently_takes_the_python_emitter() -> None:
    assert not fits_libyaml({"": 1})
    assert not fits_libyaml({"a": "line one\nline two"})
    assert not fits_libyaml({"a": ["é"]})
    text = render_definition({"id": "a:b", "description": "line one\nline two", "x": [1]})
    assert text == yaml.dump(
        {"id": "a:b", "description": "line one\nline two", "x": [1]}, Dumper=_Dumper, **OPTIONS
    )


# Every character but lone surrogates, the line breaks YAML folds (\r, NEL, U+2028/9)
# and other unprintable ones weighted in.
ANY_TEXT = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from(["\n", "\r", "\x85", "\u2028", "\u2029", "\t", "\x1b", "\ufeff", " "]),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(ANY_TEXT.filter(bool), ANY_TEXT | st.lists(ANY_TEXT, max_size=3), max_size=4)
)
def test_every_string_export_writes_reads_back_identical(value: dict[str, Any]) -> None:
    from registry_sync.yamlio.source import parse_documents

    document = {"id": "a:b", **{key: item for key, item in value.items() if key != "id"}}
    documents, error = parse_documents(render_definition(document))
    assert error is None
    assert [d.data for d in documents] == [document]
