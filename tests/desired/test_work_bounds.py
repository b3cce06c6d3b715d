"""The bound on work: YAML nodes per file, and nodes and bytes across the files of a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry_sync.cli import cli
from registry_sync.desired.bounds import LoadLimits, count_nodes
from registry_sync.desired.loader import load_models
from registry_sync.settings.config import ProjectConfig
from registry_sync.settings.defaults import CACHE_DIR_ENV
from registry_sync.testing import MINIMAL_MODEL_YAML, list_response
from registry_sync.yamlio.files import MAX_FILE_NODES
from registry_sync.yamlio.source import parse_counted, parse_documents

# A mapping, its key and a list: three nodes before the items.
ITEMS = "items:\n"


def listing(nodes: int) -> str:
    """A text of exactly ``nodes`` nodes, one short line each."""
    return ITEMS + "- x\n" * (nodes - 3)


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    return Path("models")


def validate(cache: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["validate", "--models-dir", "models"], env={CACHE_DIR_ENV: str(cache)}
    )
    return result.exit_code, result.stderr


def test_a_file_over_the_node_bound_is_refused_at_its_file(models: Path, tmp_path: Path) -> None:
    (models / "chat.yaml").write_text(MINIMAL_MODEL_YAML)
    (models / "big.yaml").write_text(listing(MAX_FILE_NODES + 1))
    code, stderr = validate(tmp_path / "cache")
    assert code == 1
    assert (
        f"models/big.yaml:{MAX_FILE_NODES - 2}: more than 100,000 YAML nodes (keys, values, "
        "lists and mappings), the bound on one file; a model is a few dozen: split the file"
    ) in stderr.splitlines()


def test_a_file_at_the_node_bound_is_parsed() -> None:
    documents, error, nodes = parse_counted(listing(MAX_FILE_NODES))
    assert error is None and nodes == MAX_FILE_NODES
    assert len(documents[0].data["items"]) == MAX_FILE_NODES - 3
    documents, error, nodes = parse_counted(listing(MAX_FILE_NODES + 1))
    assert error is not None and "more than 100,000 YAML nodes" in error.message
    assert nodes == MAX_FILE_NODES + 1


@pytest.mark.parametrize(
    "text",
    [
        MINIMAL_MODEL_YAML,
        "a: 1\n---\nb: [1, 2, {c: ~}]\n---\n",
        "a:\n",
        "[]\n",
        "{a, b}\n",
    ],
)
def test_nodes_are_counted_as_written(text: str) -> None:
    documents, error, nodes = parse_counted(text)
    assert error is None
    assert nodes == sum(count_nodes(document.data) for document in documents)


def test_an_alias_is_not_a_node_and_the_documents_of_a_file_add_up() -> None:
    assert parse_counted("a: &x [1, 2]\nb: *x\n")[2] == 1 + 2 + 3  # *x is no node
    assert parse_counted("a: 1\n---\na: 1\n")[2] == 6


def test_a_stream_that_fails_later_is_counted_up_to_its_error() -> None:
    documents, error = parse_documents("a: 1\n---\n[unclosed\n")
    assert error is not None and len(documents) == 1


def four_models(models: Path) -> None:
    """Four model files of 27 nodes and 208 bytes each; the last has an unknown field."""
    for index in range(4):
        text = MINIMAL_MODEL_YAML.replace("meetkai:chat", f"meetkai:chat-{index}")
        (models / f"m{index}.yaml").write_text(text + ("bogus: 1\n" if index == 3 else ""))
    assert parse_counted((models / "m0.yaml").read_text())[2] == 27
    assert (models / "m0.yaml").stat().st_size == 208


@pytest.mark.parametrize(
    ("setting", "limit", "held"),
    [
        ("total_nodes", 60, "more than 60 YAML nodes (keys, values, lists and mappings)"),
        ("total_bytes", 500, "more than 500 bytes"),
    ],
)
def test_the_files_of_a_run_past_a_total_bound_are_refused_at_the_file_that_passes_it(
    models: Path, tmp_path: Path, setting: str, limit: int, held: str
) -> None:
    four_models(models)
    Path("registry-sync.yaml").write_text(f"limits:\n  {setting}: {limit}\n")
    for run in ("cold", "warm"):  # the cache keeps each file's nodes: the same verdict
        code, stderr = validate(tmp_path / "cache")
        assert code == 1, run
        # The third file passes either bound.
        assert stderr.splitlines()[0] == (
            f"models/m2.yaml: with this file, the model files hold {held} in all, the "
            "bound on one run (10,000 models hold about 800,000 nodes and 7 MB); the files "
            "after it are not read: keep only model files in the models folder, or raise "
            f"limits.{setting} in registry-sync.yaml (a larger run takes more memory: "
            "about 1.4 GB at 100,000 models)"
        ), run
        assert "m3.yaml" not in stderr  # not read: its unknown field is not reported


@pytest.mark.parametrize("run", ["cold", "warm"])
def test_raising_the_total_bound_lets_the_run_through_and_lowering_it_refuses_it_again(
    models: Path, tmp_path: Path, run: str
) -> None:
    four_models(models)
    cache = tmp_path / "cache" if run == "warm" else tmp_path / "cache" / "unused"
    files = sorted(models.iterdir())
    nodes = sum(parse_counted(path.read_text())[2] for path in files)
    size = sum(path.stat().st_size for path in files)
    config = Path("registry-sync.yaml")
    config.write_text(f"limits:\n  total_nodes: {nodes}\n  total_bytes: {size}\n")  # exactly
    code, stderr = validate(tmp_path / "cache")  # fills the cache: every file is read
    assert code == 1 and any((tmp_path / "cache").iterdir())
    assert stderr.splitlines()[0] == "models/m3.yaml:11: bogus: unknown field"
    # One node, then one byte, fewer: a warm run counts the cached files' nodes too.
    for lowered in (f"{nodes - 1}\n  total_bytes: {size}", f"{nodes}\n  total_bytes: {size - 1}"):
        config.write_text(f"limits:\n  total_nodes: {lowered}\n")
        code, stderr = validate(cache)
        assert code == 1
        assert stderr.splitlines()[0].startswith("models/m3.yaml: with this file, the model")


@pytest.mark.parametrize(
    "command",
    [
        ["graph", "--files-only"],
        ["plan", "--registry-file", "registry.json", "--api", "registry", "--no-cache"],
    ],
)
def test_every_command_reading_the_files_honours_the_configured_bound(
    models: Path, command: list[str]
) -> None:
    four_models(models)
    Path("registry.json").write_text(json.dumps(list_response([])))
    config = Path("registry-sync.yaml")
    config.write_text("limits:\n  total_nodes: 60\n")
    refused = CliRunner().invoke(cli, command)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0].startswith(
        "models/m2.yaml: with this file, the model files hold more than 60 YAML nodes"
    )
    assert "raise limits.total_nodes in registry-sync.yaml" in refused.stderr
    config.write_text("limits:\n  total_nodes: 600\n")
    passed = CliRunner().invoke(cli, command)
    assert "the bound on one run" not in passed.stderr
    assert "models/m3.yaml:11: bogus: unknown field" in passed.stderr  # every file read


def test_the_default_total_bound_is_the_documented_one() -> None:
    assert LoadLimits() == LoadLimits(2_000_000, 64 * 1024 * 1024)
    assert LoadLimits.of(None) == LoadLimits.of(ProjectConfig()) == LoadLimits()
    assert LoadLimits.of(ProjectConfig(total_nodes=5_000_000)) == LoadLimits(
        5_000_000, 64 * 1024 * 1024
    )


def test_repeated_ids_are_listed_a_hundred_a_file_with_a_count(models: Path) -> None:
    (models / "a.yaml").write_text(MINIMAL_MODEL_YAML)
    (models / "b.yaml").write_text(("---\n" + MINIMAL_MODEL_YAML) * 150)
    problems = [str(problem) for problem in load_models(models).problems]
    assert problems[0] == (
        "models/b.yaml: 150 ids in this file are declared before; the first 100 are listed"
    )
    assert len(problems) == 101
    assert problems[1] == (
        "models/b.yaml:2: id: duplicate id 'meetkai:chat': declared at models/a.yaml:1 "
        "and at models/b.yaml:2"
    )
    assert problems[-1].startswith(f"models/b.yaml:{2 + 99 * 11}: id: duplicate id")
