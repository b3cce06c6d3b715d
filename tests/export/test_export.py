"""Export, unit by unit: paths from ids, key order, quoting, anchors, secrets, writing."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from registry_sync.errors import ConfigError, ExportError
from registry_sync.export.files import (
    PLACEHOLDER_ENV_VAR,
    READ_ONLY_DIR,
    Export,
    ExportFile,
    assign_paths,
    plan_export,
    render_definition,
    write_export,
)
from registry_sync.live.entries import LiveEntry
from registry_sync.schema.definition import Definition
from registry_sync.yamlio.source import parse_documents

SECRET = "sk-live-0123456789abcdefSECRET"


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "meetkai:chat",
        "provider": "openai-compatible",
        "modelId": "chat-v1",
        "apiFormat": "responses",
        "created": 1_700_000_000,
        "auth": {"type": "api-key", "envVar": "CHAT_KEY"},
        "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
    }
    body.update(overrides)
    return body


def entry(definition: dict[str, Any], *, immutable: bool = False) -> LiveEntry:
    return LiveEntry(
        id=definition["id"],
        immutable=immutable,
        source="yaml" if immutable else "database",
        definition=definition,
    )


def load(text: str) -> Any:
    """Parse with the loader's own YAML reader, as validate and plan will."""
    documents, error = parse_documents(text)
    assert error is None, error
    assert len(documents) == 1
    return documents[0].data


def top_level_keys(text: str) -> list[str]:
    return [
        line.split(":", 1)[0]
        for line in text.splitlines()
        if line and not line.startswith((" ", "#", "-"))
    ]


# --- paths -------------------------------------------------------------------------------

PATH_CASES = [
    # (id, read-only, expected path)
    ("meetkai:chat-v1", False, "meetkai/chat-v1.yaml"),
    ("no-namespace", False, "no-namespace.yaml"),
    ("meetkai:chat-v1", True, f"{READ_ONLY_DIR}/meetkai/chat-v1.yaml"),
    ("a:b:c", False, "a/b_c.yaml"),  # only the first colon separates the namespace
    ("ns:dir/file", False, "ns/dir_file.yaml"),  # never a sub-folder
    ("ns:back\\slash", False, "ns/back_slash.yaml"),
    ('ns:<a>"b"|c?d*e', False, "ns/_a__b__c_d_e.yaml"),
    ("ns:tab\tnew\nline\x7f", False, "ns/tab_new_line_.yaml"),
    ("ns:trailing.", False, "ns/trailing_.yaml"),
    ("ns:trailing. ", False, "ns/trailing__.yaml"),
    ("ns:..", False, "ns/__.yaml"),
    ("ns:.", False, "ns/_.yaml"),
    ("ns:.hidden", False, "ns/_hidden.yaml"),
    ("ns:", False, "ns/_.yaml"),
    (":name", False, "_/name.yaml"),
    ("ns:CON", False, "ns/CON_.yaml"),
    ("ns:nul", False, "ns/nul_.yaml"),
    ("ns:Aux.v1", False, "ns/Aux_.v1.yaml"),  # reserved whatever follows the dot
    ("ns:com1", False, "ns/com1_.yaml"),
    ("ns:LPT9", False, "ns/LPT9_.yaml"),
    ("ns:COM¹", False, "ns/COM¹_.yaml"),
    ("ns:conin$", False, "ns/conin$_.yaml"),
    ("COM1:model", False, "COM1_/model.yaml"),  # the namespace folder too
    ("ns:console", False, "ns/console.yaml"),  # only the exact device names
    ("ns:com10", False, "ns/com10.yaml"),
    ("ns:modèle-ü", False, "ns/modèle-ü.yaml"),
    ("ns:with space", False, "ns/with space.yaml"),
    (f"{READ_ONLY_DIR}:x", False, f"{READ_ONLY_DIR}_/x.yaml"),  # not mixed with read-only
    (f"{READ_ONLY_DIR}:x", True, f"{READ_ONLY_DIR}/{READ_ONLY_DIR}/x.yaml"),
]


@pytest.mark.parametrize(("entry_id", "read_only", "expected"), PATH_CASES)
def test_path_from_id(entry_id: str, read_only: bool, expected: str) -> None:
    assert assign_paths([(entry_id, read_only)]) == {entry_id: PurePosixPath(expected)}


def test_long_name_is_cut_to_fit_a_file_system_name() -> None:
    long_id = "ns:" + "é" * 300
    path = assign_paths([(long_id, False)])[long_id]
    assert len(path.name.encode()) <= 255
    assert path.parent == PurePosixPath("ns")
    other = "ns:" + "é" * 299 + "x"
    assert assign_paths([(other, False)])[other] != path


COLLISIONS = [
    # Same name after replacement: the id that needed no replacement keeps it.
    (["a:b/c", "a:b_c"], {"a:b_c": "a/b_c.yaml"}),
    # Same name on a case-insensitive file system: the smaller id keeps it.
    (["a:Chat", "a:chat", "a:CHAT"], {"a:CHAT": "a/CHAT.yaml"}),
    (["A:chat", "a:chat"], {"A:chat": "A/chat.yaml"}),
    (["a:x.", "a:x_", "a:x "], {"a:x_": "a/x_.yaml"}),
    # Both replaced: the smaller id keeps the name.
    (["a:x?", "a:x*"], {"a:x*": "a/x_.yaml"}),
    # Composed and decomposed é are one name on macOS.
    (["a:caf\u00e9", "a:cafe\u0301"], {"a:cafe\u0301": "a/cafe\u0301.yaml"}),
]


@pytest.mark.parametrize(("ids", "plain"), COLLISIONS)
def test_colliding_ids_all_get_their_own_file(ids: list[str], plain: dict[str, str]) -> None:
    paths = assign_paths([(entry_id, False) for entry_id in ids])
    assert set(paths) == set(ids)
    folded = {path.as_posix().casefold() for path in paths.values()}
    assert len(folded) == len(ids)
    for entry_id, expected in plain.items():
        assert paths[entry_id] == PurePosixPath(expected)
    for entry_id in set(ids) - set(plain):
        assert paths[entry_id].stem.rsplit("-", 1)[1].isalnum()
    # The same files whatever order the server lists the entries in.
    shuffled = list(ids)
    random.Random(4).shuffle(shuffled)
    assert assign_paths([(entry_id, False) for entry_id in reversed(shuffled)]) == paths


def test_a_suffixed_name_never_takes_another_ids_plain_name() -> None:
    first = assign_paths([("a:b/c", False), ("a:b_c", False)])["a:b/c"]
    squatter = "a:" + first.stem  # an id whose plain name is that suffixed name
    paths = assign_paths([("a:b/c", False), ("a:b_c", False), (squatter, False)])
    assert paths[squatter] == first
    assert len({path.as_posix() for path in paths.values()}) == 3
    # Even squatters on every longer tag cannot make two ids share a file.
    tag = first.stem.rsplit("-", 1)[1]
    digest = hashlib.sha256(b"a:b/c").hexdigest()
    assert digest.startswith(tag)
    squatters = [f"a:b_c-{digest[:length]}" for length in range(len(tag), len(digest) + 1)]
    ids = [("a:b/c", False), ("a:b_c", False), *((s, False) for s in squatters)]
    assert len(set(assign_paths(ids).values())) == len(ids)


def test_read_only_and_mutable_entries_do_not_collide() -> None:
    paths = assign_paths([("a:x", False), ("a:x", True)])
    assert paths == {"a:x": PurePosixPath(f"{READ_ONLY_DIR}/a/x.yaml")}  # one id, one entry
    paths = assign_paths([("a:x", False), ("b:x", True)])
    assert paths["a:x"] == PurePosixPath("a/x.yaml")
    assert paths["b:x"] == PurePosixPath(f"{READ_ONLY_DIR}/b/x.yaml")


# --- order, style, quoting ----------------------------------------------------------------


def test_keys_follow_the_reference_order_and_unknown_keys_come_last() -> None:
    scrambled = {
        "zNewServerField": {"b": 1, "a": 2},
        "healthCheck": {
            "timeoutMs": 100,
            "method": "HEAD",
            "intervalSeconds": 5,
            "path": "/h",
            "mode": "periodic",
        },
        "rateLimits": [
            {"queue": {"maxWaitMs": 5, "maxDepth": 1}, "duration": 9, "rpm": 5, "scope": "org"}
        ],
        "capabilities": {
            "minImageResolution": {"maxHeight": 1, "maxWidth": 2},
            "reasoning": True,
            "futureFlag": True,
            "modalities": {"output": ["text"], "input": ["image"]},
        },
        "auth": {
            "strategies": [
                {
                    "envVars": {"X-B": "B", "X-A": "A"},
                    "headers": {"X-Z": "z"},
                    "type": "custom-headers",
                },
                {"headerName": "X-Key", "envVar": "K", "type": "api-key"},
            ],
            "type": "composite",
        },
        "rerouteRules": [
            {
                "log": True,
                "targetModelId": "m:x",
                "trigger": {"modality": "image", "type": "input-modality"},
            }
        ],
        "embeddingLimits": {"dimensions": {"default": 2, "max": 3, "min": 1}, "maxBatchSize": 4},
        "created": 1,
        "apiFormat": "responses",
        "displayName": "Chat",
        "modelId": "chat",
        "provider": "p",
        "id": "m:chat",
        "anotherNewField": 1,
    }
    text = render_definition(scrambled)
    assert top_level_keys(text) == [
        "id",
        "provider",
        "modelId",
        "displayName",
        "apiFormat",
        "created",
        "auth",
        "capabilities",
        "rateLimits",
        "rerouteRules",
        "embeddingLimits",
        "healthCheck",
        "zNewServerField",
        "anotherNewField",
    ]
    loaded = load(text)
    assert loaded == scrambled
    assert list(loaded["healthCheck"]) == ["mode", "path", "intervalSeconds", "method", "timeoutMs"]
    assert list(loaded["rateLimits"][0]) == ["scope", "rpm", "duration", "queue"]
    assert list(loaded["rateLimits"][0]["queue"]) == ["maxDepth", "maxWaitMs"]
    assert list(loaded["capabilities"]) == [
        "modalities",
        "reasoning",
        "minImageResolution",
        "futureFlag",
    ]
    assert list(loaded["capabilities"]["modalities"]) == ["input", "output"]
    assert list(loaded["capabilities"]["minImageResolution"]) == ["maxWidth", "maxHeight"]
    strategies = loaded["auth"]["strategies"]
    assert list(loaded["auth"]) == ["type", "strategies"]
    assert list(strategies[0]) == ["type", "headers", "envVars"]
    assert list(strategies[0]["envVars"]) == ["X-B", "X-A"]  # free keys keep the server's order
    assert list(strategies[1]) == ["type", "envVar", "headerName"]
    assert list(loaded["rerouteRules"][0]) == ["trigger", "targetModelId", "log"]
    assert list(loaded["rerouteRules"][0]["trigger"]) == ["type", "modality"]
    assert list(loaded["embeddingLimits"]) == ["maxBatchSize", "dimensions"]
    assert list(loaded["embeddingLimits"]["dimensions"]) == ["min", "max", "default"]
    assert list(loaded["zNewServerField"]) == ["b", "a"]


def test_health_check_url_form_keeps_url_then_method() -> None:
    text = render_definition(chat(healthCheck={"method": "GET", "url": "https://h/x"}))
    assert "healthCheck:\n  url: https://h/x\n  method: GET\n" in text


def test_block_style_with_indented_lists() -> None:
    text = render_definition(chat(rateLimits=[{"scope": "global", "rpm": 1}]))
    assert "{" not in text and "[" not in text
    assert "    input:\n      - text\n" in text
    assert "rateLimits:\n  - scope: global\n    rpm: 1\n" in text


MISREAD = [
    # YAML 1.1 (PyYAML) would read these as another type
    "off",
    "On",
    "yes",
    "NO",
    "true",
    "null",
    "~",
    "1.0",
    "1",
    "-2",
    "0x1F",
    "017",
    "1_000",
    ".inf",
    ".NaN",
    "12:30",
    "2024-01-01",
    "<<",
    "=",
    "",
    # YAML 1.2 readers (editors, other tools) would
    "1e3",
    "-1E-3",
    "0o17",
    "+.5",
    # and the YAML 1.1 one-letter booleans
    "y",
    "N",
]
AWKWARD = [
    "a: b",
    "# not a comment",
    "- not a list",
    "@at",
    "`tick",
    "%percent",
    "!tag",
    "&anchor",
    "*alias",
    "? key",
    "|",
    ">",
    "{}",
    "[x]",
    "'single'",
    '"double"',
    " leading space",
    "trailing space ",
    "two\nlines",
    "ends with newline\n",
    "  indented\nfirst line",
    "tab\there",
    "escape\x1b[31m",
    "modèle ✓",
]


@pytest.mark.parametrize("value", MISREAD)
def test_strings_a_reader_would_misread_are_quoted(value: str) -> None:
    text = render_definition(chat(displayName=value))
    assert load(text)["displayName"] == value
    assert f"displayName: {value}\n" not in text


@pytest.mark.parametrize("value", MISREAD + AWKWARD)
def test_every_string_loads_back_the_same_as_value_and_as_key(value: str) -> None:
    auth = {"type": "custom-headers", "headers": {value or "x": value}}
    definition = chat(displayName=value, auth=auth)
    assert load(render_definition(definition)) == definition


def test_numbers_and_booleans_keep_their_types() -> None:
    params = {"temperature": 1.0, "topP": 1, "presencePenalty": -0.5, "frequencyPenalty": 1e-7}
    definition = chat(defaultParams=params, hidden=False, maxRetries=0, contextWindow=2_000_000)
    loaded = load(render_definition(definition))
    assert loaded == definition
    for key, value in params.items():
        assert type(loaded["defaultParams"][key]) is type(value)


def test_no_anchors_even_when_values_are_the_same_object() -> None:
    modalities = {"input": ["text"], "output": ["text"]}
    shared = {"modalities": modalities, "reasoning": False}
    definition = chat(
        capabilities=shared,
        zA=shared,
        zB=[modalities, modalities],
        embeddingLimits={"dimensions": {"min": 1, "max": 2, "default": 1}},
    )
    text = render_definition(definition)
    assert "&" not in text and "*" not in text
    assert load(text) == definition


def test_multi_line_strings_are_literal_blocks() -> None:
    text = render_definition(chat(displayName="line one\nline two"))
    assert "displayName: |-\n  line one\n  line two\n" in text


# --- the export ----------------------------------------------------------------------------


def test_mutable_entries_only_unless_read_only_is_included() -> None:
    entries = [entry(chat(id="m:a")), entry(chat(id="m:b"), immutable=True)]
    plain = plan_export(entries)
    assert [file.id for file in plain.files] == ["m:a"]
    assert plain.read_only_skipped == 1
    both = plan_export(entries, include_read_only=True)
    assert [(f.id, f.path.as_posix(), f.read_only) for f in both.files] == [
        ("m:b", f"{READ_ONLY_DIR}/m/b.yaml", True),
        ("m:a", "m/a.yaml", False),
    ]
    assert both.read_only_skipped == 0


def test_read_only_file_says_so_in_a_header_and_mutable_files_have_none() -> None:
    export = plan_export(
        [entry(chat(id="m:a")), entry(chat(id="m:b"), immutable=True)], include_read_only=True
    )
    read_only, mutable = export.files
    assert read_only.text.startswith("# Read-only:")
    assert "It cannot be changed or removed through the API" in read_only.text.replace("\n# ", " ")
    assert mutable.text.startswith("id: m:a\n")
    assert load(read_only.text) == chat(id="m:b")


def test_server_owned_fields_are_dropped_and_created_is_kept() -> None:
    definition = chat(health={"is_available": True}, updated_at=5, created_at=4)
    (file,) = plan_export([entry(definition)]).files
    assert load(file.text) == chat()
    assert "created: 1700000000\n" in file.text


def test_ids_select_entries_in_the_order_given_without_repeats() -> None:
    entries = [entry(chat(id=f"m:{name}")) for name in "abc"]
    export = plan_export(entries, ids=["m:c", "m:a", "m:c"])
    assert [file.id for file in export.files] == ["m:a", "m:c"]
    assert export.read_only_skipped == 0


def test_unknown_ids_are_all_named() -> None:
    entries = [entry(chat(id="meetkai:chat-v1"))]
    with pytest.raises(ConfigError) as caught:
        plan_export(entries, ids=["meetkai:chat-v2", "meetkai:chat-v1", "other:x"])
    message = str(caught.value)
    assert "no registry entry 'meetkai:chat-v2' (did you mean 'meetkai:chat-v1'?)" in message
    assert "no registry entry 'other:x'" in message


def test_a_read_only_id_needs_the_flag() -> None:
    entries = [entry(chat(id="m:ro"), immutable=True)]
    with pytest.raises(ConfigError, match=r"'m:ro' is read-only .*--include-read-only"):
        plan_export(entries, ids=["m:ro"])
    (file,) = plan_export(entries, ids=["m:ro"], include_read_only=True).files
    assert file.read_only


# --- secrets ---------------------------------------------------------------------------------

SECRET_CASES = [
    # (live auth or fields, field reported, expected in the file)
    (
        {"auth": {"type": "api-key", "value": SECRET}},
        "auth.value",
        {"auth": {"type": "api-key", "envVar": PLACEHOLDER_ENV_VAR}},
    ),
    (
        {"auth": {"type": "api-key", "envVar": "KEY", "headerName": "X-Key", "value": SECRET}},
        "auth.value",
        {"auth": {"type": "api-key", "envVar": "KEY", "headerName": "X-Key"}},
    ),
    (
        {
            "auth": {
                "type": "custom-headers",
                "headers": {"X-Region": "eu", "Authorization": f"Bearer {SECRET}"},
            }
        },
        "auth.headers.Authorization",
        {
            "auth": {
                "type": "custom-headers",
                "headers": {"X-Region": "eu"},
                "envVars": {"Authorization": PLACEHOLDER_ENV_VAR},
            }
        },
    ),
    (
        {
            "auth": {
                "type": "custom-headers",
                "headers": {"X-Token": SECRET},
                "envVars": {"X-Token": "TOKEN", "X-Other": "OTHER"},
            }
        },
        "auth.headers.X-Token",
        {
            "auth": {
                "type": "custom-headers",
                "headers": {},
                "envVars": {"X-Token": "TOKEN", "X-Other": "OTHER"},
            }
        },
    ),
    (
        {
            "auth": {
                "type": "composite",
                "strategies": [
                    {"type": "none"},
                    {"type": "api-key", "value": SECRET, "headerName": "X-Key"},
                ],
            }
        },
        "auth.strategies[1].value",
        {
            "auth": {
                "type": "composite",
                "strategies": [
                    {"type": "none"},
                    {"type": "api-key", "envVar": PLACEHOLDER_ENV_VAR, "headerName": "X-Key"},
                ],
            }
        },
    ),
    (
        {"baseUrl": f"https://user:{SECRET}@llm.example.com/v1"},
        "baseUrl",
        {"baseUrl": "https://llm.example.com/v1"},
    ),
    (
        {"healthCheck": {"url": f"https://probe:{SECRET}@llm.example.com/health"}},
        "healthCheck.url",
        {"healthCheck": {"url": "https://llm.example.com/health"}},
    ),
]


@pytest.mark.parametrize(("fields", "field", "expected"), SECRET_CASES)
def test_secrets_are_never_written(
    fields: dict[str, Any], field: str, expected: dict[str, Any]
) -> None:
    (file,) = plan_export([entry(chat(**fields))]).files
    assert SECRET not in file.text
    assert [secret.field for secret in file.secrets] == [field]
    assert all(SECRET not in secret.fix for secret in file.secrets)
    assert load(file.text) == chat(**expected)
    assert "# Secrets found in the registry were left out of this file:" in file.text
    assert f"#   {field}: secret left out;" in file.text
    # The placeholder is a valid name, so the file validates and plan shows the change.
    Definition.model_validate(load(file.text))


def test_placeholder_lines_carry_a_todo_comment() -> None:
    (file,) = plan_export([entry(chat(auth={"type": "api-key", "value": SECRET}))]).files
    assert f"  envVar: {PLACEHOLDER_ENV_VAR}  # TODO: name the environment variable" in file.text
    assert "replace that with the environment variable" in file.secrets[0].fix


def test_every_secret_of_one_entry_is_reported() -> None:
    definition = chat(
        baseUrl=f"https://u:{SECRET}@h/v1",
        auth={
            "type": "composite",
            "strategies": [
                {"type": "api-key", "value": SECRET},
                {"type": "custom-headers", "headers": {"Cookie": SECRET, "X-Api-Key": SECRET}},
            ],
        },
    )
    (file,) = plan_export([entry(definition)]).files
    assert [secret.field for secret in file.secrets] == [
        "baseUrl",
        "auth.strategies[0].value",
        "auth.strategies[1].headers.Cookie",
        "auth.strategies[1].headers.X-Api-Key",
    ]
    assert SECRET not in file.text
    Definition.model_validate(load(file.text))


def test_a_header_name_with_odd_characters_cannot_break_the_comment() -> None:
    headers = {"X-Token\n# injected: yes": SECRET}
    definition = chat(auth={"type": "custom-headers", "headers": headers})
    (file,) = plan_export([entry(definition)]).files
    assert "\n# injected" not in file.text
    assert SECRET not in file.text
    assert load(file.text)["auth"]["envVars"] == {"X-Token\n# injected: yes": PLACEHOLDER_ENV_VAR}


# --- writing ---------------------------------------------------------------------------------


def two_files() -> Export:
    return Export(
        files=(
            ExportFile("m:a", PurePosixPath("m/a.yaml"), "id: m:a\n", False),
            ExportFile("m:b", PurePosixPath("m/sub/b.yaml"), "id: m:b\n", False),
        ),
        read_only_skipped=0,
    )


def test_write_creates_folders_and_returns_the_paths(tmp_path: Path) -> None:
    written = write_export(two_files(), tmp_path / "out")
    assert written == [tmp_path / "out/m/a.yaml", tmp_path / "out/m/sub/b.yaml"]
    assert (tmp_path / "out/m/sub/b.yaml").read_bytes() == b"id: m:b\n"


def test_an_existing_file_stops_the_export_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "m/sub").mkdir(parents=True)
    (tmp_path / "m/sub/b.yaml").write_text("mine\n")
    with pytest.raises(ExportError, match=r"m/sub/b\.yaml already exists; nothing was written"):
        write_export(two_files(), tmp_path)
    assert not (tmp_path / "m/a.yaml").exists()
    assert (tmp_path / "m/sub/b.yaml").read_text() == "mine\n"


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m/a.yaml").write_text("old\n")
    write_export(two_files(), tmp_path, force=True)
    assert (tmp_path / "m/a.yaml").read_text() == "id: m:a\n"


def test_a_folder_in_the_way_is_an_error_even_with_force(tmp_path: Path) -> None:
    (tmp_path / "m/a.yaml").mkdir(parents=True)
    with pytest.raises(ExportError, match=r"a\.yaml is a folder"):
        write_export(two_files(), tmp_path, force=True)
    assert not (tmp_path / "m/sub").exists()


def test_a_dangling_link_is_never_written_through(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    target = tmp_path / "elsewhere.yaml"
    (tmp_path / "m/a.yaml").symlink_to(target)
    with pytest.raises(ExportError, match="is a symbolic link"):
        write_export(two_files(), tmp_path)
    assert not target.exists()


def test_export_never_writes_through_a_linked_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out/m").symlink_to(elsewhere, target_is_directory=True)
    for force in (False, True):
        with pytest.raises(ExportError) as raised:
            write_export(two_files(), tmp_path / "out", force=force)
        assert str(raised.value) == (
            f"export failed: {(tmp_path / 'out/m').as_posix()} is a symbolic link; export "
            "never writes through or over one, even with --force: remove it or export to "
            "another --out-dir. Nothing was written"
        )
    assert list(elsewhere.iterdir()) == []


def test_force_never_overwrites_a_links_target(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    (tmp_path / "m/a.yaml").symlink_to(target)
    with pytest.raises(ExportError, match=r"m/a\.yaml is a symbolic link"):
        write_export(two_files(), tmp_path, force=True)
    assert target.read_text() == "keep me\n"
    assert not (tmp_path / "m/sub").exists()


def test_a_text_that_would_read_back_otherwise_is_refused_before_writing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = render_definition

    def lossy(definition: dict[str, Any], *args: Any, **kwargs: Any) -> str:
        # An emitter that folds a line break, as PyYAML's once folded U+0085.
        return written(definition, *args, **kwargs).replace("\\N", " ")

    monkeypatch.setattr("registry_sync.export.files.render_definition", lossy)
    odd = chat(displayName="a\x85b")

    with pytest.raises(ExportError) as raised:
        plan_export([entry(odd)])

    assert str(raised.value) == (
        "export failed: the file for 'meetkai:chat' would read back differently (displayName); "
        "nothing was written. This is a bug in registry-sync: please report it"
    )
