"""The parse cache: hits, misses after an edit, corrupt entries, version changes."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from registry_sync import _version, parsecache
from registry_sync.cli import cli
from registry_sync.gcpause import gc_paused
from registry_sync.loader import LoadResult, load_models
from registry_sync.parsecache import CACHE_DIR_ENV, ParseCache, default_cache
from registry_sync.testing import MINIMAL_MODEL_YAML, RegistryServer

CHAT = MINIMAL_MODEL_YAML


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "chat.yaml").write_text(CHAT)
    return Path("models")


def packs(cache: ParseCache) -> list[Path]:
    return sorted(cache.folder.glob("*.json"))


def entries(cache: ParseCache) -> list[dict[str, Any]]:
    """Every stored entry, as JSON."""
    found = []
    for pack in packs(cache):
        found.extend(json.loads(pack.read_text())["entries"].values())
    return found


def rewrite(cache: ParseCache, change: Callable[[dict[str, Any]], None]) -> None:
    (pack,) = packs(cache)
    data = json.loads(pack.read_text())
    for entry in data["entries"].values():
        change(entry)
    pack.write_text(json.dumps(data))


def tamper(cache: ParseCache, model_id: str) -> None:
    def change(entry: dict[str, Any]) -> None:
        entry["documents"][0][0] = model_id
        entry["documents"][0][4]["id"] = model_id

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
    assert entry["documents"][0][4]["modelId"] == "chat-v2"


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"entries": []}', ""])
def test_a_corrupt_cache_file_is_ignored_and_rewritten(
    models: Path, tmp_path: Path, garbage: str
) -> None:
    cache = ParseCache(tmp_path / "cache")
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    pack.write_text(garbage)
    assert load_models(models, cache) == expected
    assert entries(cache)[0]["documents"][0][0] == "meetkai:chat"


@pytest.mark.parametrize("garbage", [[], {"documents": [[1]]}, {"documents": "x"}, None])
def test_a_corrupt_entry_is_ignored_and_rewritten(
    models: Path, tmp_path: Path, garbage: Any
) -> None:
    cache = ParseCache(tmp_path / "cache")
    expected = load_models(models, cache)
    (pack,) = packs(cache)
    data = json.loads(pack.read_text())
    data["entries"] = {key: garbage for key in data["entries"]}
    pack.write_text(json.dumps(data))
    assert load_models(models, cache) == expected
    assert entries(cache)[0]["documents"][0][0] == "meetkai:chat"


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

ROOT = Path(__file__).resolve().parent.parent
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
        lambda entry: entry["warnings"].append([3, "modelId", "planted in the cache by the test"]),
    )
    cached = run(["validate", "--models-dir", "models"], cache_dir)
    assert "models/chat.yaml:3: modelId: warning: planted in the cache" in cached.stderr
    fresh = run(["validate", "--models-dir", "models", "--no-cache"], cache_dir)
    assert "planted" not in fresh.stderr
    assert fresh.exit_code == cached.exit_code == 0


def test_plan_and_apply_fill_the_cache_unless_told_not_to(tmp_path: Path) -> None:
    models = ["--models-dir", str(ROOT / "models")]
    registry = ["--registry-file", str(ROOT / "examples" / "registry.json")]
    assert run(["plan", *models, *registry, "--no-cache"], tmp_path / "a").exit_code == 0
    assert not (tmp_path / "a").exists()
    assert run(["plan", *models, *registry], tmp_path / "a").exit_code == 0
    assert len(entries(ParseCache(tmp_path / "a"))) == 4
    with RegistryServer(seed=ROOT / "examples" / "registry.json", api_key=KEY) as server:
        apply = ["apply", *models, "--api-url", server.url, "--auto-approve"]
        assert run([*apply, "--no-cache"], tmp_path / "b").exit_code == 0
        assert not (tmp_path / "b").exists()
        assert run(apply, tmp_path / "b").exit_code == 0
    assert len(entries(ParseCache(tmp_path / "b"))) == 4
