"""The bound on work: YAML nodes per file, and nodes and bytes across the files of a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from registry_sync.cli import cli
from registry_sync.desired import bounds
from registry_sync.desired.bounds import count_nodes
from registry_sync.desired.loader import load_models
from registry_sync.settings.defaults import CACHE_DIR_ENV
from registry_sync.testing import MINIMAL_MODEL_YAML
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


@pytest.mark.parametrize(
    ("bound", "limit", "held"),
    [
        ("MAX_TOTAL_NODES", 60, "more than 60 YAML nodes (keys, values, lists and mappings)"),
        ("MAX_TOTAL_BYTES", 500, "more than"),
    ],
)
def test_the_files_of_a_run_past_a_total_bound_are_refused_at_the_file_that_passes_it(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bound: str, limit: int, held: str
) -> None:
    for index in range(4):
        text = MINIMAL_MODEL_YAML.replace("meetkai:chat", f"meetkai:chat-{index}")
        (models / f"m{index}.yaml").write_text(text + ("bogus: 1\n" if index == 3 else ""))
    # 27 nodes and 208 bytes each: the third file passes either bound.
    assert parse_counted((models / "m0.yaml").read_text())[2] == 27
    assert (models / "m0.yaml").stat().st_size == 208
    monkeypatch.setattr(bounds, bound, limit)
    for run in ("cold", "warm"):  # the cache keeps each file's nodes: the same verdict
        code, stderr = validate(tmp_path / "cache")
        assert code == 1, run
        assert stderr.splitlines()[0].startswith(
            f"models/m2.yaml: with this file, the model files hold {held}"
        ), run
        assert "the bound on one run" in stderr
        assert "m3.yaml" not in stderr  # not read: its unknown field is not reported


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
