"""The parse cache: hits, misses after an edit, corrupt entries, version changes."""

from __future__ import annotations

import datetime
import gc
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from paths import EXAMPLE_REGISTRY, ROOT

from registry_sync import _version
from registry_sync.cli import cli
from registry_sync.desired import parsecache
from registry_sync.desired.loader import LoadResult, load_models
from registry_sync.desired.parsecache import (
    CachedDocument,
    CachedFile,
    ParseCache,
    default_cache,
)
from registry_sync.gcpause import gc_paused
from registry_sync.settings.defaults import CACHE_DIR_ENV
from registry_sync.testing import MINIMAL_MODEL_YAML, RegistryServer

CHAT = MINIMAL_MODEL_YAML


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "chat.yaml").write_text(CHAT)
    return Path("models")


def packs(cache: ParseCache) -> list[Path]:
    return sorted(cache.folder.glob("parse-*.cache"))


HEADER = b"registry-sync parse cache 3\n"


def records(pack: Path) -> dict[str, Any]:
    """What a cache file holds: {"files": ..., "entries": ...}."""
    raw = pack.read_bytes()
    assert raw.startswith(HEADER)
    found: dict[str, Any] = json.loads(raw[len(HEADER) : -66])
    return found


def entries(cache: ParseCache) -> list[list[Any]]:
    """Every stored entry, as JSON: [documents, warnings, empty, nodes]."""
    return [entry for pack in packs(cache) for entry in records(pack)["entries"].values()]


def write_records(pack: Path, found: dict[str, Any]) -> None:
    """Write ``found`` as the cache itself would, its digest made with its key: what
    the next run reads is then what the test planted."""
    secret = (pack.parent / parsecache.KEY_NAME).read_bytes()
    key = parsecache._file_key(secret, pack.stem.removeprefix("parse-").encode())
    body = json.dumps(found).encode()
    pack.write_bytes(HEADER + body + parsecache._trailer(hmac.new(key, body, "sha256")))


def rewrite(cache: ParseCache, change: Callable[[list[Any]], None]) -> None:
    (pack,) = packs(cache)
    found = records(pack)
    for entry in found["entries"].values():
        change(entry)
    write_records(pack, found)


def tamper(cache: ParseCache, model_id: str, of: str = "meetkai:chat") -> None:
    """Plant ``model_id`` in the entry of the file declaring ``of``."""

    def change(entry: list[Any]) -> None:
        if entry[0][0][0] == of:
            entry[0][0][0] = model_id
            entry[0][0][4]["id"] = model_id

    rewrite(cache, change)


def test_a_second_load_reads_the_entry_and_finds_the_same(models: Path, tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    first = load_models(models, cache)
    assert len(entries(cache)) == 1
    assert load_models(models, cache) == first == load_models(models)
    tamper(cache, "from:cache")  # proves the second run reads the entry, not the file
    assert [d.id for d in load_models(models, cache).definitions] == ["from:cache"]


def test_an_edited_file_misses_and_gets_its_own_entry(models: Path, tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    load_models(models, cache)
    (models / "chat.yaml").write_text(CHAT.replace("chat-v1", "chat-v2"))
    result = load_models(models, cache)
    assert result.definitions[0].body["modelId"] == "chat-v2"
    # The entry of the old content is gone with it: the cache does not grow with edits.
    (entry,) = entries(cache)
    assert entry[0][0][4]["modelId"] == "chat-v2"


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"entries": []}', ""])
def test_a_corrupt_cache_file_is_ignored_and_rewritten(
    models: Path, tmp_path: Path, garbage: str
) -> None:
    cache = ParseCache(tmp_path / "cache")
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    pack.write_text(garbage)
    assert load_models(models, cache) == expected
    assert entries(cache)[0][0][0][0] == "meetkai:chat"


@pytest.mark.parametrize(
    "garbage",
    [
        [],
        {"documents": [[1]]},
        None,
        [[["meetkai:chat", True, 0, 1, "not a mapping"]], [], False, 1],
        [[], [[1, "too short"]], False, 1],
        [[], [], "not a boolean", 1],
        [[], [], False, "not a count"],
        [[], [], False],
    ],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(
    models: Path, tmp_path: Path, garbage: Any
) -> None:
    cache = ParseCache(tmp_path / "cache")
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    found = records(pack)
    write_records(
        pack, {name: data if name == "files" else garbage for name, data in found.items()}
    )
    assert load_models(models, cache) == expected
    assert entries(cache)[0][0][0][0] == "meetkai:chat"


def test_another_tool_version_does_not_read_the_entry(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ParseCache(tmp_path / "cache")
    load_models(models, cache)
    tamper(cache, "from:old-version")
    monkeypatch.setattr(_version, "__version__", "99.0.0")
    parsecache._salt.cache_clear()
    try:
        assert [d.id for d in load_models(models, cache).definitions] == ["meetkai:chat"]
    finally:
        monkeypatch.undo()
        parsecache._salt.cache_clear()
    assert len(packs(cache)) == 2


def test_files_with_errors_are_never_cached_so_no_secret_is(models: Path, tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    secret = "sk-live-0123456789abcdef0123456789"
    text = CHAT.replace("  envVar: CHAT_API_KEY\n", f"  apiKey: {secret}\n")
    (models / "chat.yaml").write_text(text)
    result = load_models(models, cache)
    assert result.errors
    assert entries(cache) == []
    assert all(secret not in pack.read_text() for pack in packs(cache))
    assert load_models(models, cache) == result


def test_warnings_and_duplicate_ids_come_back_from_the_cache(models: Path, tmp_path: Path) -> None:
    (models / "chat.yaml").write_text(CHAT + "description: null\n")
    (models / "copy.yaml").write_text("# a copy\n" + CHAT)
    (models / "empty.yaml").write_text("")
    cache = ParseCache(tmp_path / "cache")
    cold: LoadResult = load_models(models, cache)
    assert [p.severity for p in cold.problems] == ["warning", "error"]
    assert cold.notes == ("models/empty.yaml: empty file, skipped",)
    assert len(entries(cache)) == 3
    assert load_models(models, cache) == cold


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ({"a": [1, -2.5, True, None, "x"]}, True),
        ((1, 2), False),  # would come back a list
        ({1: "a"}, False),  # would come back with the key "1"
        (float("nan"), False),
        (float("inf"), False),
        pytest.param(10**5000, False, id="past Python's int-to-text limit"),
        (datetime.date(2026, 1, 1), False),
        ([[[[[[[[[[[]]]]]]]]]]], True),
    ],
)
def test_only_what_json_gives_back_equal_is_kept(tmp_path: Path, value: Any, kept: bool) -> None:
    cache = ParseCache(tmp_path / "cache")
    cache.open(tmp_path)
    body = {"id": "x", "value": value}
    cache.put("k", CachedFile((CachedDocument("x", True, 0, 1, body),), (), False))
    cache.save()
    stored = entries(cache) if packs(cache) else []
    assert stored == ([[[["x", True, 0, 1, body]], [], False, 0]] if kept else [])


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 2.5, true]\n",
        "a: ~\n",
        "a:\n",
        "a: [1, null]\n",
        "a: {b: null}\n",
        "a: 99999999999999999999999\n",
        "a: -18446744073709551615\n",
        "a: .inf\n",
        "a: .nan\n",
        "1: x\n",
        "null: x\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {b}\n",
        "a: !!timestamp 2026-01-01\n",
        "a: 2026-01-01\n",
        "a: &x {b: 1}\nc: *x\n",
        "a: &x {b: ~}\nc: *x\n",
        "base: &b {x: 1}\nm: {<<: *b, y: 2}\n",
        "a: 1\n---\nb: ~\n---\nc: .inf\n",
    ],
)
def test_the_readers_flags_never_promise_more_than_a_walk_finds(text: str) -> None:
    """What the reader says it saw while building a document (no null; only values
    JSON gives back equal) is what the loader and the cache then skip a walk for."""
    from registry_sync.schema.server import without_nulls
    from registry_sync.yamlio.source import parse_documents

    documents, error = parse_documents(text)
    assert error is None and documents
    for document in documents:
        if not document.maybe_null:
            assert without_nulls(document.data) is document.data
        if document.json_exact:
            assert parsecache._plain(document.data)


def test_a_file_json_cannot_give_back_equal_is_not_cached(models: Path, tmp_path: Path) -> None:
    # Valid (a positive integer), but past the 64 bits the cache keeps.
    (models / "chat.yaml").write_text(CHAT + "contextWindow: 99999999999999999999999\n")
    cache = ParseCache(tmp_path / "cache")
    cold = load_models(models, cache)
    assert cold.problems == ()
    assert not packs(cache) or entries(cache) == []
    assert load_models(models, cache) == cold


def test_the_cache_folder_comes_from_the_environment_or_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert default_cache().folder == tmp_path / "mine"
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache().folder == tmp_path / "xdg" / "registry-sync" / "parse"


def test_an_unwritable_cache_costs_only_speed(models: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert load_models(models, ParseCache(blocked / "cache")) == load_models(models)


def test_the_collector_is_restored_after_loading_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- through the CLI: validate, plan and apply use it; --no-cache bypasses it --------

KEY = "test-key-parse-cache"


def run(args: list[str], cache_dir: Path) -> Result:
    env = {CACHE_DIR_ENV: str(cache_dir), "MKA1_API_KEY": KEY, "NO_COLOR": None}
    return CliRunner().invoke(cli, args, env=env)


def test_validate_reads_the_cache_and_no_cache_bypasses_it(models: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    assert run(["validate", "--models-dir", "models", "--no-cache"], cache_dir).exit_code == 0
    assert not cache_dir.exists()
    assert run(["validate", "--models-dir", "models"], cache_dir).exit_code == 0
    rewrite(
        ParseCache(cache_dir),
        lambda entry: entry[1].append([3, "modelId", "planted in the cache by the test"]),
    )
    cached = run(["validate", "--models-dir", "models"], cache_dir)
    assert "models/chat.yaml:3: modelId: warning: planted in the cache" in cached.stderr
    fresh = run(["validate", "--models-dir", "models", "--no-cache"], cache_dir)
    assert "planted" not in fresh.stderr
    assert fresh.exit_code == cached.exit_code == 0


def test_plan_and_apply_fill_the_cache_unless_told_not_to(tmp_path: Path) -> None:
    models = ["--models-dir", str(ROOT / "models")]
    registry = ["--registry-file", str(EXAMPLE_REGISTRY)]
    assert run(["plan", *models, *registry, "--no-cache"], tmp_path / "a").exit_code == 0
    assert not (tmp_path / "a").exists()
    assert run(["plan", *models, *registry], tmp_path / "a").exit_code == 0
    assert len(entries(ParseCache(tmp_path / "a"))) == 4
    with RegistryServer(seed=EXAMPLE_REGISTRY, api_key=KEY) as server:
        apply = ["apply", *models, "--api-url", server.url, "--auto-approve"]
        assert run([*apply, "--no-cache"], tmp_path / "b").exit_code == 0
        assert not (tmp_path / "b").exists()
        assert run(apply, tmp_path / "b").exit_code == 0
    assert len(entries(ParseCache(tmp_path / "b"))) == 4


# --- the status layer: files known by their lstat are not read ------------------------
#
# A test that watches which files a load opens runs each of its loads in a fresh
# interpreter: the cache's name depends on the tool's version, which a test of the
# packaging may rewrite on disk while this process keeps the one it imported.

# Loads a folder through the cache and lists every file below it that was opened,
# seen through Python's own audit hooks (os.open raises "open").
LOAD = """
import json, sys
from pathlib import Path
from registry_sync.desired.loader import load_models
from registry_sync.desired.parsecache import ParseCache

models = sys.argv[1]
opened = []
sys.addaudithook(
    lambda event, args: opened.append(args[0])
    if event == "open" and isinstance(args[0], str) and args[0].startswith(models)
    else None
)
result = load_models(Path(models), ParseCache(Path(sys.argv[2])))
print(json.dumps({
    "opened": sorted(Path(path).name for path in opened),
    "ids": [definition.id for definition in result.definitions],
    "modelIds": [definition.body["modelId"] for definition in result.definitions],
    "problems": [problem.message for problem in result.problems],
}))
"""
AGED = ("hit", "edit", "touch", "replace", "remove", "mode", "link", "concurrent", "records")
BOTH = ["meetkai:chat", "meetkai:other"]


def load(models: Path, cache: ParseCache) -> dict[str, Any]:
    """What loading ``models`` through ``cache`` found and which files it opened."""
    completed = subprocess.run(
        [sys.executable, "-c", LOAD, str(models), str(cache.folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(completed.stdout)
    return loaded


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One models folder per test, each with chat.yaml and other.yaml, all older than
    the racy margin (written once, then one wait for all of them)."""
    root = tmp_path_factory.mktemp("aged")
    folders = {}
    for name in AGED:
        folder = root / name / "models"
        folder.mkdir(parents=True)
        (folder / "chat.yaml").write_text(CHAT)
        (folder / "other.yaml").write_text(CHAT.replace("meetkai:chat", "meetkai:other"))
        folders[name] = folder
    time.sleep(parsecache.SETTLE_NS / 1e9 + 0.2)
    return folders


def cache_of(models: Path) -> ParseCache:
    return ParseCache(models.parent / "cache")


def stored_files(cache: ParseCache) -> dict[str, Any]:
    (pack,) = packs(cache)
    files: dict[str, Any] = records(pack)["files"]
    return files


def test_a_file_whose_status_is_unchanged_is_not_opened(aged: dict[str, Path]) -> None:
    models = aged["hit"]
    cache = cache_of(models)
    first = load(models, cache)
    assert first["opened"] == ["chat.yaml", "other.yaml"]
    assert sorted(stored_files(cache)) == ["chat.yaml", "other.yaml"]
    assert load(models, cache) == {**first, "opened": []}
    # What the status names is the entry of the content: planted there, it is what loads.
    tamper(cache, "from:cache")
    assert load(models, cache)["ids"] == ["from:cache", "meetkai:other"]
    # A problem that needs a line of a file not read: it is read then.
    tamper(cache, "meetkai:chat", of="meetkai:other")
    tamper(cache, "meetkai:chat", of="from:cache")
    clash = load(models, cache)
    assert clash["opened"] == ["chat.yaml", "other.yaml"]
    assert clash["problems"] == [
        f"duplicate id 'meetkai:chat': declared at {models}/chat.yaml:1 "
        f"and at {models}/other.yaml:1"
    ]


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(aged: dict[str, Path]) -> None:
    models = aged["edit"]
    cache = cache_of(models)
    load(models, cache)
    chat = models / "chat.yaml"
    before = chat.stat()
    with chat.open("r+") as file:  # in place: same inode, same size
        file.write(CHAT.replace("chat-v1", "chat-v2"))
    os.utime(chat, ns=(before.st_atime_ns, before.st_mtime_ns))  # the old mtime back
    after = chat.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    edited = load(models, cache)
    assert edited["opened"] == ["chat.yaml"]  # the change time gave it away
    assert edited["modelIds"] == ["chat-v2", "chat-v1"]
    # Changed just now: too young for its status to be trusted yet.
    assert sorted(stored_files(cache)) == ["other.yaml"]


def test_a_touched_file_is_read_and_found_by_its_content(aged: dict[str, Path]) -> None:
    models = aged["touch"]
    cache = cache_of(models)
    load(models, cache)
    tamper(cache, "from:cache")
    os.utime(models / "chat.yaml")
    touched = load(models, cache)
    # Read again (a racy status is verified by content), then not parsed: same bytes.
    assert touched["opened"] == ["chat.yaml"]
    assert touched["ids"] == ["from:cache", "meetkai:other"]
    assert sorted(stored_files(cache)) == ["other.yaml"]
    # Once it is old enough, the next run that reads it records its status again.
    time.sleep(parsecache.SETTLE_NS / 1e9 + 0.2)
    assert load(models, cache)["opened"] == ["chat.yaml"]
    assert sorted(stored_files(cache)) == ["chat.yaml", "other.yaml"]
    assert load(models, cache)["opened"] == []


def test_a_young_file_is_verified_by_its_content(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "chat.yaml").write_text(CHAT)
    cache = cache_of(models)
    assert load(models, cache)["ids"] == ["meetkai:chat"]
    assert stored_files(cache) == {}  # written just now: no status recorded
    assert load(models, cache)["opened"] == ["chat.yaml"]


def test_a_replaced_file_is_read(aged: dict[str, Path]) -> None:
    models = aged["replace"]
    cache = cache_of(models)
    load(models, cache)
    chat = models / "chat.yaml"
    before = chat.stat()
    new = models.parent / "new.yaml"
    new.write_text(CHAT.replace("chat-v1", "chat-v2"))
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, chat)  # as editors save: same size and mtime, another inode
    replaced = load(models, cache)
    assert replaced["opened"] == ["chat.yaml"]
    assert replaced["modelIds"] == ["chat-v2", "chat-v1"]


def test_a_removed_file_leaves_the_cache(aged: dict[str, Path]) -> None:
    models = aged["remove"]
    cache = cache_of(models)
    load_models(models, cache)
    (models / "other.yaml").unlink()
    assert [d.id for d in load_models(models, cache).definitions] == ["meetkai:chat"]
    assert sorted(stored_files(cache)) == ["chat.yaml"]
    assert len(entries(cache)) == 1


def test_a_permission_change_is_seen(aged: dict[str, Path]) -> None:
    models = aged["mode"]
    cache = cache_of(models)
    load(models, cache)
    (models / "chat.yaml").chmod(0o600)  # as chmod 000 would: mode and change time
    assert load(models, cache)["opened"] == ["chat.yaml"]


def test_a_file_replaced_by_a_link_is_checked_as_a_link(
    aged: dict[str, Path], tmp_path: Path
) -> None:
    models = aged["link"]
    cache = cache_of(models)
    load_models(models, cache)
    outside = tmp_path / "outside.yaml"
    outside.write_text(CHAT)
    (models / "chat.yaml").unlink()
    (models / "chat.yaml").symlink_to(outside)
    linked = load_models(models, cache)
    assert [d.id for d in linked.definitions] == ["meetkai:other"]
    assert "a symbolic link to a file outside the models folder" in linked.errors[0].message


@pytest.mark.parametrize(
    "garbage",
    [
        "not a mapping",
        {"chat.yaml": "not a record"},
        {"chat.yaml": [1, 2, 3]},
        {"chat.yaml": [0, 0, 0, 0, 0, 0, 7]},
    ],
)
def test_corrupt_status_records_are_ignored(aged: dict[str, Path], garbage: Any) -> None:
    models = aged["records"]
    cache = cache_of(models)
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    write_records(pack, {**records(pack), "files": garbage})
    assert load_models(models, cache) == expected
    assert [d.id for d in expected.definitions] == BOTH
    assert sorted(stored_files(cache)) == ["chat.yaml", "other.yaml"]


def test_concurrent_runs_leave_one_whole_cache(aged: dict[str, Path]) -> None:
    models = aged["concurrent"]
    cache = cache_of(models)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD, str(models), str(cache.folder)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [json.loads(run.communicate()[0]) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0]
    assert all(output["ids"] == BOTH for output in outputs)
    assert sorted(stored_files(cache)) == ["chat.yaml", "other.yaml"]
    assert not list(cache.folder.glob(".parse-*.tmp"))
    assert load(models, cache)["opened"] == []


def test_cache_files_unused_for_a_month_go_and_those_in_use_stay(
    models: Path, tmp_path: Path
) -> None:
    cache = ParseCache(tmp_path / "cache")
    load_models(models, cache)
    (mine,) = packs(cache)
    month = parsecache.STALE_AFTER + 86_400
    old = time.time() - month
    folder = cache.folder
    legacy = b'{"format":2,"files":{}}'  # what the cache wrote before format 3
    ours = {
        "parse-" + "a" * 64 + ".cache": HEADER,  # another folder's, or another version's
        ".parse-123-0.tmp": HEADER,  # a run that died while writing
        "c" * 64 + ".json": legacy,
        ".tmp-123-0": legacy,
    }
    not_ours = {
        "notes.txt": HEADER,  # not this tool's name: never touched
        "d" * 64 + ".json": b"{}",  # this tool's old name, not its header
        "parse-" + "e" * 64 + ".cache": b"registry-sync parse cache 9\n",
    }
    recent = folder / ("parse-" + "b" * 64 + ".cache")
    recent.write_bytes(HEADER)
    for name, text in {**ours, **not_ours}.items():
        (folder / name).write_bytes(text)
        os.utime(folder / name, (old, old))
    os.utime(mine, (old, old))

    load_models(models, cache)  # reads mine (marking it used); nothing changed: no save
    assert mine.stat().st_mtime > old + month / 2
    assert all((folder / name).exists() for name in ours)
    (models / "new.yaml").write_text(CHAT.replace("meetkai:chat", "meetkai:new"))
    load_models(models, cache)  # saves, and prunes

    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [mine.name, recent.name, parsecache.KEY_NAME, *not_ours]
    )


# --- a cache, never a source of truth ---------------------------------------------------


def hand_edit(pack: Path, change: Callable[[list[Any]], None]) -> None:
    """Change every entry of ``pack`` as a person with an editor would: the digest
    stays as it was."""
    raw = pack.read_bytes()
    found = records(pack)
    for entry in found["entries"].values():
        change(entry)
    pack.write_bytes(HEADER + json.dumps(found).encode() + raw[-66:])


def attack(entry: list[Any]) -> None:
    for document in entry[0]:
        document[4]["baseUrl"] = "https://attacker.example/v1"
        document[4]["auth"] = {"type": "none"}


def test_a_hand_edited_entry_is_not_used_nor_written_back(models: Path, tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    hand_edit(pack, attack)
    assert "attacker" in pack.read_text()
    assert load_models(models, cache) == expected
    assert "attacker" not in pack.read_text()  # the file was parsed, its entry written again
    assert entries(cache)[0][0][0][0] == "meetkai:chat"


def test_plan_shows_the_files_not_a_hand_edited_cache(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    plan = ["plan", "--models-dir", str(models), "--registry-file", str(EXAMPLE_REGISTRY)]
    first = run(plan, tmp_path / "cache")
    (pack,) = packs(ParseCache(tmp_path / "cache"))
    hand_edit(pack, attack)
    again = run(plan, tmp_path / "cache")
    assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    assert "attacker" not in again.output
    assert "attacker" not in pack.read_text()


def test_a_cache_file_copied_in_the_place_of_another_is_not_used(tmp_path: Path) -> None:
    """A digest is made for one cache file: another file's (another models folder,
    another API generation) does not pass in its place."""
    cache = ParseCache(tmp_path / "cache")
    folders: list[Path] = []
    pack_of: dict[str, Path] = {}
    for name in ("a", "b"):
        folder = tmp_path / name / "models"
        folder.mkdir(parents=True)
        (folder / "chat.yaml").write_text(CHAT)  # the same bytes: the same content key
        load_models(folder, cache)
        (pack_of[name],) = set(packs(cache)) - set(pack_of.values())
        folders.append(folder)
    signed = records(pack_of["a"])
    for entry in signed["entries"].values():
        entry[0][0][0] = entry[0][0][4]["id"] = "from:a"
    write_records(pack_of["a"], signed)
    pack_of["b"].write_bytes(pack_of["a"].read_bytes())
    assert [d.id for d in load_models(folders[0], cache).definitions] == ["from:a"]
    assert [d.id for d in load_models(folders[1], cache).definitions] == ["meetkai:chat"]


def test_the_cache_makes_its_folder_and_key_private(models: Path, tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "deep" / "cache")
    load_models(models, cache)
    (pack,) = packs(cache)
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache.folder / parsecache.KEY_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE(pack.stat().st_mode) == 0o600


def filled(models: Path, folder: Path) -> ParseCache:
    """A cache of ``models`` whose entry is planted (signed with its key): a load that
    reads it finds ``from:cache``."""
    cache = ParseCache(folder)
    load_models(models, cache)
    tamper(cache, "from:cache")
    assert [d.id for d in load_models(models, cache).definitions] == ["from:cache"]
    return cache


def test_a_folder_others_can_write_to_is_not_used_and_said_once(
    models: Path, tmp_path: Path
) -> None:
    filled(models, tmp_path / "cache")
    (tmp_path / "cache").chmod(0o777)
    before = {path.name: path.read_bytes() for path in (tmp_path / "cache").iterdir()}
    said: list[str] = []
    cache = ParseCache(tmp_path / "cache", said.append)
    for _ in range(2):
        assert [d.id for d in load_models(models, cache).definitions] == ["meetkai:chat"]
    assert said == [
        f"warning: the parse cache folder {tmp_path / 'cache'} is not yours or others can "
        f"write to it: not using the cache; set {CACHE_DIR_ENV} to a folder of your own"
    ]
    # Neither read nor written: what others may have put there stays as it was.
    assert {path.name: path.read_bytes() for path in (tmp_path / "cache").iterdir()} == before


def test_validate_warns_on_stderr_of_a_cache_others_can_write_to(
    models: Path, tmp_path: Path
) -> None:
    cache = ParseCache(tmp_path / "cache")
    load_models(models, cache)
    rewrite(cache, lambda entry: entry[1].append([3, "modelId", "planted in the cache"]))
    (tmp_path / "cache").chmod(0o770)  # writable by the group
    result = run(["validate", "--models-dir", "models", "--strict"], tmp_path / "cache")
    assert result.exit_code == 0  # a warning about the cache fails no check
    assert result.stderr.count("warning: the parse cache folder") == 1
    assert "planted" not in result.output


def test_a_foreign_cache_is_not_used(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As another user sees this user's cache (tests cannot chown as a non-root user:
    the user id is the one that differs)."""
    filled(models, tmp_path / "cache")
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)
    said: list[str] = []
    loaded = load_models(models, ParseCache(tmp_path / "cache", said.append))
    assert [d.id for d in loaded.definitions] == ["meetkai:chat"]
    assert len(said) == 1 and "not yours" in said[0]


def stat_of(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 1, 1, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "foreign", "unreadable", "trusted"),
    [
        (0o600, False, True, True),
        (0o644, False, False, True),
        (0o755, False, False, True),
        (0o644, False, True, False),  # a key others can read: they could sign records
        (0o620, False, False, False),
        (0o602, False, False, False),
        (0o1777, False, False, False),
        (0o600, True, False, False),
        (0o700, True, True, False),
    ],
)
def test_only_what_is_the_users_own_and_no_one_elses_to_write_is_trusted(
    mode: int, foreign: bool, unreadable: bool, trusted: bool
) -> None:
    info = stat_of(stat.S_IFREG | mode, os.getuid() + foreign)
    assert parsecache.owned_privately(info, unreadable=unreadable) is trusted


def test_a_cache_file_others_can_write_to_is_not_read_and_is_replaced(
    models: Path, tmp_path: Path
) -> None:
    cache = filled(models, tmp_path / "cache")
    (pack,) = packs(cache)
    pack.chmod(0o666)
    said: list[str] = []
    loaded = load_models(models, ParseCache(tmp_path / "cache", said.append))
    assert [d.id for d in loaded.definitions] == ["meetkai:chat"]
    assert said == [
        f"warning: the parse cache file {pack} is not yours or others can write to it: "
        "not reading it"
    ]
    assert stat.S_IMODE(pack.stat().st_mode) == 0o600  # written again, as the cache's own
    assert entries(cache)[0][0][0][0] == "meetkai:chat"


def test_a_key_others_can_read_is_not_used(models: Path, tmp_path: Path) -> None:
    cache = filled(models, tmp_path / "cache")
    key = cache.folder / parsecache.KEY_NAME
    key.chmod(0o644)
    said: list[str] = []
    loaded = load_models(models, ParseCache(tmp_path / "cache", said.append))
    assert [d.id for d in loaded.definitions] == ["meetkai:chat"]
    assert len(said) == 1 and "parse cache key" in said[0]
    assert stat.S_IMODE(key.stat().st_mode) == 0o644  # left for the user to remove


def test_a_new_key_makes_every_entry_a_miss(models: Path, tmp_path: Path) -> None:
    cache = filled(models, tmp_path / "cache")
    (cache.folder / parsecache.KEY_NAME).unlink()
    assert [d.id for d in load_models(models, cache).definitions] == ["meetkai:chat"]
    assert (cache.folder / parsecache.KEY_NAME).exists()
    assert entries(cache)[0][0][0][0] == "meetkai:chat"


def test_an_unrelated_file_in_the_cache_folder_survives(models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    unrelated = folder / ("f" * 64 + ".json")  # the name format 2 gave its files
    unrelated.write_text('{"someone": "else"}')
    old = time.time() - parsecache.STALE_AFTER - 86_400
    os.utime(unrelated, (old, old))
    assert run(["validate", "--models-dir", "models"], folder).exit_code == 0
    (models / "new.yaml").write_text(CHAT.replace("meetkai:chat", "meetkai:new"))
    assert run(["validate", "--models-dir", "models"], folder).exit_code == 0  # saves, prunes
    assert unrelated.read_text() == '{"someone": "else"}'


def test_a_file_in_the_place_of_the_cache_folder_costs_only_speed(
    models: Path, tmp_path: Path
) -> None:
    (tmp_path / "cache").write_text("not a folder")
    said: list[str] = []
    assert load_models(models, ParseCache(tmp_path / "cache", said.append)) == load_models(models)
    assert said == [] and (tmp_path / "cache").read_text() == "not a folder"
