"""Editing model files in place: values set, added and removed as the project's own
reader reads them back, every other byte kept, and nothing written that would not."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_sync.errors import EditRefused
from registry_sync.yamlio import roundtrip
from registry_sync.yamlio.roundtrip import DELETE, open_for_edit, same_data, write_edited
from registry_sync.yamlio.source import parse_documents

COMMENTED = """\
# The chat model.   Spacing below is the author's own.
id: acme:chat   # the id
modelId:   chat-v1
capabilities:
  modalities: {input: [ text ], output: [text]}
  reasoning: true   # why not
contextWindow: 128000  # tokens
rateLimits:
  - scope: global
    rpm: 6000

  - scope: org     # the org's own
    rpm: 600
hidden: ~
---
# second document
id: acme:other
modelId: other
displayName: 'Other'
"""


def _write(tmp_path: Path, text: str, name: str = "models.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _data(path: Path) -> list[Any]:
    documents, error = parse_documents(path.read_text(encoding="utf-8"))
    assert error is None
    return [document.data for document in documents]


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_a_value_changes_on_its_line_and_every_other_byte_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("contextWindow",), 64000)
    edited.set(0, ("rateLimits", 1, "rpm"), 700)
    edited.set(1, ("displayName",), "Renamed")
    assert [file.path for file in write_edited([edited])] == [path]
    after = path.read_text(encoding="utf-8")
    # The comment keeps its column; quotes stay as written; nothing else moves.
    assert _changed_lines(COMMENTED, after) == [
        ("contextWindow: 128000  # tokens", "contextWindow: 64000   # tokens"),
        ("    rpm: 600", "    rpm: 700"),
        ("displayName: 'Other'", "displayName: 'Renamed'"),
    ]
    assert _data(path)[0]["contextWindow"] == 64000


def test_keys_are_added_and_removed_in_place(tmp_path: Path) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("capabilities", "supportsTopP"), True)
    edited.set(1, ("displayName",), DELETE)
    edited.set(0, ("rateLimits", 2), {"scope": "user", "rpm": 10})
    write_edited([edited])
    after = path.read_text(encoding="utf-8")
    assert "  reasoning: true   # why not\n  supportsTopP: true\n" in after
    assert "displayName" not in after
    assert "    rpm: 600\n  - scope: user\n    rpm: 10\n" in after
    # The lines ruamel.yaml would have respaced are the author's still.
    assert "  modalities: {input: [ text ], output: [text]}\n" in after
    assert "modelId:   chat-v1\n" in after
    assert "hidden: ~\n" in after
    data = _data(path)
    assert data[0]["capabilities"]["supportsTopP"] is True
    assert data[0]["rateLimits"][2] == {"scope": "user", "rpm": 10}
    assert "displayName" not in data[1]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("true", "'true'"),
        ("null", "'null'"),
        ("~", "'~'"),
        ("", "''"),
        ("0x10", "'0x10'"),
        ("0b1", "'0b1'"),
        ("1_000", "'1_000'"),
        ("1:20", "'1:20'"),
        (".inf", "'.inf'"),
        ("12", "'12'"),
        ("<<", "'<<'"),
        # The loader reads these as text; other readers do not: quoted as export quotes.
        ("2024-01-01", "'2024-01-01'"),
        ("off", "'off'"),
        ("1e3", "'1e3'"),
        ("n", "'n'"),
        # Text every reader reads as text: no quotes.
        ("plain words", "plain words"),
        ("acme:chat", "acme:chat"),
        ("https://x.example.com/v1", "https://x.example.com/v1"),
        # Numbers as the loader reads them: a float keeps a dot and a signed exponent.
        (1e-07, "1.0e-07"),
        (1e20, "1.0e+20"),
        (0.5, "0.5"),
        (7, "7"),
        (False, "false"),
    ],
)
def test_quoting_follows_the_loaders_resolvers(tmp_path: Path, value: Any, written: str) -> None:
    path = _write(tmp_path, "id: acme:x\ndisplayName: old\n")
    edited = open_for_edit(path)
    edited.set(0, ("displayName",), value)
    write_edited([edited])
    assert path.read_text(encoding="utf-8") == f"id: acme:x\ndisplayName: {written}\n"
    assert same_data(_data(path)[0]["displayName"], value)


SCALARS = (
    st.text(max_size=12)
    | st.sampled_from(["true", "False", "NULL", "~", "0o17", "0x1F", "1_0", "-.5", "+1", "1:0"])
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, width=64)
    | st.booleans()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, min_size=1, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=VALUES)
def test_any_value_reads_back_as_written_with_the_comments_kept(tmp_path: Path, value: Any) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("displayName",), value)
    edited.set(1, ("modelId",), value)
    try:
        write_edited([edited])
    except EditRefused:
        # Refusing is allowed (a value ruamel.yaml cannot write faithfully); writing
        # anything else is not, and a refusal leaves the file as it was.
        assert path.read_text(encoding="utf-8") == COMMENTED
        return
    data = _data(path)
    assert same_data(data[0]["displayName"], value)
    assert same_data(data[1]["modelId"], value)
    text = path.read_text(encoding="utf-8")
    for line in COMMENTED.splitlines():
        if "#" in line:
            assert "#" + line.split("#", 1)[1] in text


def test_a_text_that_would_read_back_otherwise_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("contextWindow",), 64000)
    # ruamel.yaml's output, forced to say something else than what was asked.
    real = roundtrip._merge
    monkeypatch.setattr(
        roundtrip,
        "_merge",
        lambda *args: real(*args).replace("contextWindow: 64000", "contextWindow: '64000'"),
    )
    with pytest.raises(EditRefused, match=r"models\.yaml: not written: .*contextWindow"):
        write_edited([edited])
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_one_refused_file_stops_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _write(tmp_path, "id: acme:a\nrpm: 1\n", "a.yaml")
    second = _write(tmp_path, "id: acme:b\nrpm: 1\n", "b.yaml")
    files = [open_for_edit(first), open_for_edit(second)]
    for file in files:
        file.set(0, ("rpm",), 2)
    real = roundtrip._merge
    monkeypatch.setattr(roundtrip, "_merge", lambda *args: real(*args).replace("acme:b", "acme:c"))
    with pytest.raises(EditRefused, match=r"b\.yaml: not written.*\bid\b"):
        write_edited(files)
    assert first.read_text(encoding="utf-8") == "id: acme:a\nrpm: 1\n"


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("contextWindow",), 64000)
    path.write_text(COMMENTED + "# someone else's edit\n", encoding="utf-8")
    with pytest.raises(EditRefused, match="changed on disk since registry-sync read it"):
        write_edited([edited])
    assert path.read_text(encoding="utf-8").endswith("# someone else's edit\n")


def test_the_write_is_atomic_and_keeps_the_mode_bom_and_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: acme:x\r\nrpm: 1 # c\r\n")
    path.chmod(0o640)
    edited = open_for_edit(path)
    edited.set(0, ("rpm",), 2)
    write_edited([edited])
    assert path.read_bytes() == b"\xef\xbb\xbfid: acme:x\r\nrpm: 2 # c\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [entry.name for entry in tmp_path.iterdir()] == ["crlf.yaml"]  # no temporary left


def test_nothing_to_write_when_nothing_changed(tmp_path: Path) -> None:
    path = _write(tmp_path, COMMENTED)
    before = os.stat(path).st_mtime_ns
    assert write_edited([open_for_edit(path)]) == []
    assert os.stat(path).st_mtime_ns == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id: [unclosed\n", r"bad\.yaml:2: YAML syntax error"),
        (b"id: \xff\n", "not UTF-8"),
    ],
)
def test_files_that_cannot_be_edited_are_named(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(EditRefused, match=message):
        open_for_edit(path)


def test_a_symbolic_link_is_not_edited(tmp_path: Path) -> None:
    target = _write(tmp_path, "id: acme:x\n", "target.yaml")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    with pytest.raises(EditRefused, match=r"link\.yaml: not a regular file"):
        open_for_edit(link)


def test_an_edit_below_a_missing_mapping_is_refused(tmp_path: Path) -> None:
    edited = open_for_edit(_write(tmp_path, "id: acme:x\n"))
    with pytest.raises(EditRefused, match=r"cannot edit auth\.type: auth is not in the file"):
        edited.set(0, ("auth", "type"), "none")


def test_reorder_and_canonical_style_keep_comments(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "modelId: x   # upstream\n# the id comes first\nid: 'acme:x'\n"
        "capabilities: {reasoning: true, modalities: {input: [text], output: [text]}}\n",
    )
    edited = open_for_edit(path)
    edited.make_canonical(
        0,
        {
            "id": 0,
            "modelId": 0,
            "capabilities": {"modalities": {"input": 0, "output": 0}, "reasoning": 0},
        },
    )
    write_edited([edited])
    text = path.read_text(encoding="utf-8")
    assert "# upstream" in text and "# the id comes first" in text
    assert text.index("id: acme:x") < text.index("modelId: x")
    assert "capabilities:\n  modalities:\n    input:\n" in text
    assert _data(path) == [
        {
            "id": "acme:x",
            "modelId": "x",
            "capabilities": {
                "modalities": {"input": ["text"], "output": ["text"]},
                "reasoning": True,
            },
        }
    ]


def test_a_line_ruamel_would_respace_changes_alone_when_edited(tmp_path: Path) -> None:
    path = _write(tmp_path, COMMENTED)
    edited = open_for_edit(path)
    edited.set(0, ("capabilities", "modalities", "input", 1), "image")
    write_edited([edited])
    assert _changed_lines(COMMENTED, path.read_text(encoding="utf-8")) == [
        (
            "  modalities: {input: [ text ], output: [text]}",
            "  modalities: {input: [text, image], output: [text]}",
        )
    ]


def test_an_edit_through_a_yaml_alias_is_refused(tmp_path: Path) -> None:
    # The alias shares its anchor's mapping: the edit would change both places.
    text = "id: acme:x\ndefaultParams: &params\n  topP: 1\nother: *params\n"
    path = _write(tmp_path, text)
    edited = open_for_edit(path)
    edited.set(0, ("other", "topP"), 0.5)
    with pytest.raises(EditRefused, match=r"would not read back as intended \(.*defaultParams"):
        write_edited([edited])
    assert path.read_text(encoding="utf-8") == text
