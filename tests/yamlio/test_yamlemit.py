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
