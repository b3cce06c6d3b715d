"""The block YAML fast path against libyaml: the same documents, or no answer at all.

Every text is parsed twice, by ``parse_documents`` (the fast path first) and by the
libyaml path alone, and the results must be equal down to types (``True`` is not
``1``, ``1.0`` is not ``1``). Each case also says whether the fast path must answer
(so the tests fail if it quietly gives up on everything) or must leave the text to
libyaml.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.export.files import render_definition
from registry_sync.testing import MINIMAL_MODEL_YAML, minimal_definition
from registry_sync.yamlio.source import (
    _BLOCK,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    Document,
    YamlError,
    _parse_with_libyaml,
    parse_documents,
)

ROOT = Path(__file__).resolve().parent.parent
BOUNDED = settings(max_examples=200, deadline=None)


def _plan_bench() -> Any:
    spec = importlib.util.spec_from_file_location("plan_bench", ROOT / "benchmarks/plan_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def typed(value: Any) -> Any:
    """``value`` with every scalar's exact type beside it, keys included, order kept."""
    if isinstance(value, dict):
        return ("dict", [(typed(key), typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    return (type(value).__name__, repr(value))


def snapshot(result: tuple[list[Document], YamlError | None]) -> Any:
    documents, error = result
    return (
        [(d.index, d.line, typed(d.data), d.maybe_duplicate_keys) for d in documents],
        error,
    )


def check(text: str, *, taken: bool | None) -> Any:
    """Fast path and libyaml agree on ``text``; ``taken`` says whether the fast path
    must answer (True), must leave it (False), or may do either (None)."""
    answered = _BLOCK.documents(text) is not None
    expected = snapshot(_parse_with_libyaml(text))
    assert snapshot(parse_documents(text)) == expected, text
    if taken is not None:
        assert answered is taken, ("fast path taken" if answered else "fast path left") + (
            f" for {text!r}"
        )
    return expected


# --- the files people write ------------------------------------------------------------

REPO_YAML = sorted(
    path
    for folder in ("models", "tests/data", "examples")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".yaml", ".yml")
)
# Files that use what the fast path leaves to libyaml, and why.
LEFT_TO_LIBYAML = {
    "tests/data/loader/broken/a-syntax.yaml": "a syntax error",
    "tests/data/loader/valid/nested/deeper/embed.yml": "an anchor and an alias",
}


@pytest.mark.parametrize("path", REPO_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_yaml_files(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return  # the loader reports the encoding before any YAML is parsed
    check(text, taken=str(path.relative_to(ROOT)) not in LEFT_TO_LIBYAML)


def _doc_snippets() -> list[Any]:
    snippets = []
    for page in sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")]):
        for number, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S)):
            snippets.append(pytest.param(block, id=f"{page.name}#{number}"))
    assert snippets
    return snippets


@pytest.mark.parametrize("text", _doc_snippets())
def test_documentation_snippets_take_the_fast_path(text: str) -> None:
    check(text, taken=True)


def _bodies() -> list[dict[str, Any]]:
    plan_bench = _plan_bench()
    return [
        plan_bench.definition(0),
        plan_bench.definition(7),
        minimal_definition("meetkai:chat"),
        minimal_definition(
            "x:quoted",
            displayName="yes",
            modelId="2024-05-13",
            description="It's a model: fast, #1 in tests",
            created=0,
            tags=["on", "off", "null", "1e3", "0x1F", "~", "", " padded "],
            unicode="Café ☕ 😀 日本",
            ratio=0.5,
            big=10**30,
            negative=-1,
            flags={"true": True, "false": False, "none": None},
            empty_list=[],
            empty_map={},
            nested=[[1, 2], [[3]], [{"a": [{"b": None}]}]],
        ),
    ]


DUMP_STYLES = [
    {"sort_keys": sort_keys, "default_flow_style": flow, "indent": indent, "width": width}
    for sort_keys in (False, True)
    for flow in (False, None)
    for indent in (2, 4)
    for width in (80, 1_000_000)
] + [{"default_flow_style": True, "width": 1_000_000}]


@pytest.mark.parametrize("style", DUMP_STYLES, ids=repr)
def test_safe_dump_styles_take_the_fast_path(style: dict[str, Any]) -> None:
    for body in _bodies():
        text = yaml.safe_dump(body, allow_unicode=True, **style)
        check(text, taken=True)
        check("---\n" + text + "---\n" + text, taken=True)


def test_safe_dump_escapes_and_folds_go_to_libyaml() -> None:
    check(yaml.safe_dump({"a": "tab\there"}), taken=False)  # an escape
    check(yaml.safe_dump({"a": "word " * 30}), taken=False)  # folded over two lines
    check(yaml.safe_dump({"a": "Café"}), taken=False)  # \xe9 escaped without allow_unicode


def test_export_output_takes_the_fast_path() -> None:
    for body in _bodies():
        check(render_definition(body, header=("# exported from the registry", "#")), taken=True)


def test_minimal_model_yaml_takes_the_fast_path() -> None:
    check(MINIMAL_MODEL_YAML, taken=True)


# --- scalars ------------------------------------------------------------------------------

SCALARS = [
    "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "NO", "On", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE", "tRue",
    "0o17", "0x1F", "0b101", "017", "09", "1_000", "+1", "-0", "0", "-1", "+0.5",
    ".5", "5.", "1e3", "1.0e+3", "1E3", "6.8523015e+5", "685.230_15e+03", "190:20:30",
    "190:20:30.15", "1:30", "-1:30", "0x_1F", "0b", "0x", "0b_", "0x_", "1__0",
    ".inf", "-.inf", "+.inf", ".Inf", "-.Inf", ".INF", ".nan", ".NaN", ".NAN", "-.nan",
    "~", "null", "Null", "NULL", "nULL", "nil", "None",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "=", "<<", "<", "a=b", "-a", "-.", "--x", "---", "...", "a...",
    "text", "with space", "trailing#hash", "a#b", "a:b", "http://x:80/y?q=1&r=2",
    "bench:model-00000", "50%", "a,b", "a]b", "a}", "x[0]", "it's", 'say "hi"',
    "Café", "日本語", "😀", "a\u200bb", "\u00e9", "${gw}/v1", "model (${tier})", "$x",
]  # fmt: skip


@pytest.mark.parametrize("scalar", SCALARS)
def test_plain_scalars_resolve_as_the_loader_resolves_them(scalar: str) -> None:
    for text in (
        f"value: {scalar}\n",
        f"value: {scalar}  # a comment\n",
        f"- {scalar}\n",
        f"{scalar}\n",
        f"{scalar}: value\n",
        f"list: [{scalar}, x]\n",
        f"map: {{{scalar}: x}}\n",
    ):
        check(text, taken=None)
    # `=` and `<<` have no constructor, `0b_` none that reads it; `--` may start a marker.
    check(f"value: {scalar}\n", taken=scalar not in ("=", "<<", "0b_", "0x_", "--x", "---"))


@pytest.mark.parametrize("scalar", SCALARS)
def test_quoted_scalars_are_strings(scalar: str) -> None:
    single = scalar.replace("'", "''")
    for text in (
        f"value: '{single}'\n",
        f"'{single}': value\n",
        f"- '{single}'  # comment\n",
        f"list: ['{single}']\n",
    ):
        check(text, taken=True)
    if '"' not in scalar:
        check(f'value: "{scalar}"\n"{scalar}": 1\n', taken=True)


def test_ints_at_the_digit_bound() -> None:
    check(f"n: {'9' * MAX_INT_DIGITS}\n", taken=True)
    check(f"- {'9' * MAX_INT_DIGITS}\n", taken=True)
    _, error = check(f"n: {'9' * (MAX_INT_DIGITS + 1)}\n", taken=False)
    assert error is not None and "digits" in error.message
    _, error = check(f"{'1' * (MAX_INT_DIGITS + 1)}: x\n", taken=False)
    assert error is not None
    check(f"n: '{'9' * (MAX_INT_DIGITS + 1)}'\n", taken=True)


# --- structure ----------------------------------------------------------------------------

TAKEN = {
    "empty": "",
    "blank lines": "\n\n   \n",
    "only comments": "# one\n  # two\n",
    "a flat mapping": "a: 1\nb: two\nc: 3.0\n",
    "no final newline": "a: 1\nb: 2",
    "trailing spaces": "a: 1   \nb:    \nc: x y   \n",
    "comments everywhere": "# head\na: 1 # one\n# between\nb: # empty\n  # inside\n  c: 2\n#tail",
    "an indented root": "  a: 1\n  b:\n    c: 2\n",
    "a list root": "- 1\n- two\n- - 3\n  - 4\n",
    "a scalar root": "just text\n",
    "a quoted root": "'quoted # not a comment'\n",
    "a flow root": "[a, {b: c}]\n",
    "indentless lists": "a:\n- 1\n- 2\nb:\n- x: 1\n  y: 2\n- z\n",
    "indented lists": "a:\n  - 1\n  -   2\nb:\n    - x: 1\n      y: 2\n",
    "compact nesting": "- - - a\n    - b\n  - c\n",
    "list items of mappings": "- a: 1\n  b:\n  - x\n  c:\n    d: 2\n- e: 3\n",
    "an empty item": "-\n- a\n-\n  b: 1\n- # c\n",
    "empty values": "a:\nb: ~\nc: null\nd: ''\ne: \"\"\nf: []\ng: {}\n",
    "keys of every type": "1: a\n2.5: b\ntrue: c\nnull: d\n~: e\n'1': f\n0x10: g\n-1: h\n-x: i\n",
    "odd key text": "a b: 1\nit's: 2\n'quoted: key': 3\n\"with # hash\": 4\nx-y.z_1: 5\n",
    "unicode": "名前: 値\nemoji: 😀 ok\ncafé: crème brûlée\n",
    "flow styles": "a: [text, image]\nb: {x: 1, y: [2, 3]}\nc: [ a , b ]\nd: ['q', \"r\"]\n",
    "flow mappings in lists": "- {type: error-fallback}\n- {a: {b: [c, {d: e}]}}\n",
    "repeated keys": "a: 1\nb: 2\na: 3\n",
    "a repeated key deep down": "a:\n  - b: 1\n    b: 2\n",
    "a repeated flow key": "a: {x: 1, x: 2}\n",
    "keys equal after resolving": "1: a\n1.0: b\ntrue: c\n0x1: d\n",
    "nan keys": ".nan: a\n.NaN: b\n",
    "documents": "a: 1\n---\nb: 2\n--- # three\n- 3\n",
    "a leading marker": "# head\n---\na: 1\n",
    "a marker with spaces": "---   \na: 1\n",
    "quotes inside plain text": "a: it's \"fine\"\nb: x'y'\n",
    "hash and colon inside": "url: http://h:1/p#frag\nid: ns:name\nx: a#b\n",
    "deep nesting": "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH - 4)) + "end: 1\n",
}  # fmt: skip

LEFT = {
    "a tab": "a:\t1\n",
    "a tab indent": "a:\n\tb: 1\n",
    "a CR before a CR LF": "a: 1\r\r\nb: 2\r\n",
    "a lone CR": "a: 1\rb: 2\n",
    "a BOM": "\ufeffa: 1\n",
    "a next-line character": "a: x\x85y\n",
    "a line separator": "a: x\u2028y\n",
    "a no-break space": "a: x\u00a0y\n",
    "an anchor and alias": "a: &x 1\nb: *x\n",
    "a tag": "a: !!str 1\n",
    "an unknown tag": "a: !custom 1\n",
    "a literal block": "a: |\n  text\n",
    "a folded block": "a: >-\n  text\n",
    "a multi-line plain scalar": "a: one\n  two\n",
    "a multi-line quoted scalar": "a: 'one\n  two'\n",
    "a multi-line flow": "a: [1,\n  2]\n",
    "an escape": 'a: "x\\ty"\n',
    "a complex key": "? a\n: b\n",
    "a merge key": "<<: {a: 1}\nb: 2\n",
    "a value key": "=: 1\n",
    "a directive": "%YAML 1.1\n---\na: 1\n",
    "a document end": "a: 1\n...\n",
    "an empty document": "---\n---\na: 1\n",
    "only a marker": "---\n",
    "content after the marker": "--- a: 1\n",
    "a scalar on its own line": "a:\n  text\n",
    "a syntax error": "a: [unclosed\n",
    "a mapping in a value": "a: b: c\n",
    "a list in a value": "a: - b\n",
    "a key ending the value": "a: b:\n",
    "bad indentation": "a:\n    b: 1\n  c: 2\n",
    "a list after a mapping": "a: 1\n- b\n",
    "a deeper line after a value": "a: 1\n  b: 2\n",
    "a less indented line": "  a: 1\nb: 2\n",
    "an item out of step": "- a\n - b\n",
    "a trailing flow comma": "a: [1, 2,]\n",
    "an empty flow item": "a: [1, , 2]\n",
    "a flow pair in a list": "a: [b: c]\n",
    "a flow colon without space": "a: {b:c}\n",
    "a flow key without value": "a: {b}\n",
    "text after a quote": "a: 'b' c\n",
    "text after a flow": "a: [b] c\n",
    "a comment glued to a quote": "a: 'b'#c\n",
    "an indicator first": "a: @b\n",
    "a backquote": "a: `b`\n",
    "a percent": "a: %b\n",
    "a lone dash": "a: -\n",
    "a dash and a dash": "a: --b\n",
    "a key with a space before the colon": "a : 1\n",
    "a key without a space after the colon": "a:1\nb: 2\n",
    "an empty key": ": 1\n",
    "a long key": "k" * (300) + ": 1\n",
    "a key starting with two dashes": "--1: a\n",
    "a root on the marker line": "--- [a]\n",
    "near the depth bound": "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH - 3)),
    "too deep": "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 2)) + "  " * 66 + "x: 1\n",
    "too deep in flow": "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",
    "a control character": "a: x\x01y\n",
    "a NUL": "a: \x00\n",
    "a DEL": "a: x\x7fy\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_the_subset_takes_the_fast_path(name: str) -> None:
    check(TAKEN[name], taken=True)


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_windows_line_ends_take_the_fast_path(name: str) -> None:
    check(TAKEN[name].replace("\n", "\r\n"), taken=True)


@pytest.mark.parametrize("name", sorted(LEFT))
def test_everything_else_is_left_to_libyaml(name: str) -> None:
    check(LEFT[name], taken=False)


def test_long_keys_are_left_to_libyaml() -> None:
    # libyaml refuses a key whose `:` is more than 1,024 characters from its start.
    for size, taken in ((198, True), (1_030, False)):
        key = "k" * size
        for text in (f"{key}: v\n", f"'{key}': v\n", f"m: {{{key}: v}}\n", f"- {{'{key}': v}}\n"):
            check(text, taken=taken)
    check(f"- [{'k' * 1_030}, v]\n", taken=True)  # a list item is no key


def test_near_the_depth_bound_libyaml_decides() -> None:
    def nested(levels: int) -> str:
        return "".join(f"{'  ' * level}k{level}:\n" for level in range(levels)) + "x: 1\n"

    assert check(nested(MAX_DEPTH - 3), taken=False)[1] is None  # within libyaml's bound
    _, error = check(nested(MAX_DEPTH + 1), taken=False)
    assert error is not None and f"more than {MAX_DEPTH} levels" in error.message


def test_duplicate_keys_are_flagged_per_document() -> None:
    documents, error = parse_documents("a: 1\na: 2\n---\nb: 1\n---\n- {c: 1, c: 2}\n")
    assert error is None
    assert [d.maybe_duplicate_keys for d in documents] == [True, False, True]
    assert documents[0].data == {"a": 2}
    assert [d.line for d in documents] == [1, 4, 6]


def test_errors_are_never_accepted() -> None:
    # What libyaml or the loader refuses, the fast path leaves to them.
    for text in (
        "a: [unclosed\n",
        "a: 1\n b: 2\n",
        "a: !!int x\n",
        "a: !unknown x\n",
        f"n: {'1' * (MAX_INT_DIGITS + 1)}\n",
        "".join(f"{' ' * i}- \n" for i in range(MAX_DEPTH + 1)) + " " * 66 + "- x\n",
        "a: 1\n---\nb: [\n",
    ):
        expected = check(text, taken=False)
        assert expected[1] is not None, text


def test_documents_before_an_error_come_from_libyaml() -> None:
    documents, error = check("a: 1\n---\nb: : c\n", taken=False)
    assert len(documents) == 1 and error is not None


def test_the_memo_stays_bounded() -> None:
    for number in range(10_000):
        assert parse_documents(f"k{number}: {number}.5\n")[0][0].data == {
            f"k{number}": number + 0.5
        }
    assert len(_BLOCK.memo) <= 4096


# --- generated texts ----------------------------------------------------------------------

# Text the fast path reads when PyYAML writes it plain or quoted: `--` (which may begin
# a document marker) and `:` (an indicator) at the start are left to libyaml.
_words = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N"), include_characters="-_ .:/'"),
    min_size=1,
    max_size=12,
).filter(lambda word: not word.startswith(("--", ":")))
_names = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N"), include_characters="-_ ./'"),
    min_size=1,
    max_size=12,
).filter(lambda word: not word.startswith("--"))
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(max_size=16),
    st.sampled_from(SCALARS),
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_json_scalars, inner, max_size=4),
    max_leaves=25,
)
_simple_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False),
    _words,
)
_simple = st.recursive(
    _simple_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
    max_leaves=25,
)
_styles = st.fixed_dictionaries(
    {
        "sort_keys": st.booleans(),
        "default_flow_style": st.sampled_from([False, None, True]),
        "indent": st.integers(min_value=2, max_value=6),
        "width": st.sampled_from([40, 80, 1_000_000]),
        "allow_unicode": st.booleans(),
        "explicit_start": st.booleans(),
    }
)


@BOUNDED
@given(data=_json, style=_styles)
def test_any_dumped_data_reads_the_same(data: Any, style: dict[str, Any]) -> None:
    check(yaml.safe_dump(data, **style), taken=None)


@BOUNDED
@given(data=_simple, style=_styles)
def test_simple_dumped_data_takes_the_fast_path(data: Any, style: dict[str, Any]) -> None:
    style = {**style, "width": 1_000_000, "allow_unicode": True}
    text = yaml.safe_dump(data, **style)
    # A scalar root may be empty or end with `...`; a root on the `---` line is left.
    plain_root = not isinstance(data, (dict, list)) or text.startswith("--- ")
    check(text, taken=None if plain_root else True)


_PIECES = st.sampled_from(
    [
        "a", "b", "1", "0x1", "1.5", "true", "no", "~", "null", "x y", "é", "😀",
        ":", ": ", "-", "- ", "#", " #", "'", '"', "''", "[", "]", "{", "}", ",", ", ",
        "\n", " ", "  ", "    ", "---", "...", "&a", "*a", "!", "|", ">", "?", "%", "\\",
        "\t", "\r\n", "\r", "\ufeff", "\u00a0",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=30))
def test_random_texts_are_read_the_same_or_left(pieces: list[str]) -> None:
    check("".join(pieces), taken=None)


_KEYS = st.sampled_from(
    ["a", "b", "1", "true", "null", "~", "'q'", '"d"', "a b", "-1", "x'y", "é", "0x1", "1.0", "on"]
)
_VALUES = st.sampled_from(
    [
        *SCALARS, "", "# c", "'s'", '"d"', "'a''b'", "[a, b]", "[]", "{}", "{a: 1}",
        "{a: [b, {c: d}]}", "[a, [b]]", "'a' # c", "a # c", "a#c", "{a: 1, a: 2}", "[-1, .inf]",
        "{1: a, 1.0: b}", "x  ", "[a: b]", "&x a", "*x", "!!str a", "|", "a: b", "- a",
    ]
)  # fmt: skip
_SHAPES = st.sampled_from(
    ["{k}:", "{k}: {v}", "- {v}", "- {k}: {v}", "- {k}:", "-", "- - {v}", "{v}", "# c", "---"]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.integers(min_value=0, max_value=6), _SHAPES, _KEYS, _VALUES),
        min_size=1,
        max_size=12,
    ),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_random_lines_are_read_the_same_or_left(
    lines: list[tuple[int, str, str, str]], line_end: str
) -> None:
    text = "".join(
        " " * indent + shape.format(k=key, v=value) + line_end
        for indent, shape, key, value in lines
    )
    check(text, taken=None)
