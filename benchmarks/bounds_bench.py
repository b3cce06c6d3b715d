"""Benchmark: the peak memory of the costliest inputs within the bound on work.

Each file is bounded at ``MAX_FILE_NODES`` YAML nodes (and 10 MB), a run's files by default at
``DEFAULT_TOTAL_NODES`` nodes and ``DEFAULT_TOTAL_BYTES`` in all (``limits:`` in
registry-sync.yaml raises them, at a cost plan_bench.py measures). This writes inputs right at
those bounds, in the shapes that cost the most per node, and prints the CPU time and
peak RSS of ``registry-sync validate --no-cache`` on each, in a fresh process (most
of them are invalid: validate exits 1, after reporting every problem):

* one file each: one-line documents that are each an error (a scalar, or a mapping
  without the required fields), a mapping of unknown keys, a list of short items, a
  flow list, and few nodes with 10 MB of text;
* a run: files of the costliest one-file shape up to the total node bound, and
  valid models (plan_bench's) up to it;
* over the bounds: a file one node past the file bound and the 10 MB file of 669,000
  short lines of issue 23 (refused: the figure is the cost of refusing it).

    python benchmarks/bounds_bench.py
    python benchmarks/bounds_bench.py --only documents
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml
from plan_bench import definition, timed

from registry_sync.settings.defaults import DEFAULT_TOTAL_BYTES, DEFAULT_TOTAL_NODES
from registry_sync.yamlio.files import MAX_FILE_BYTES, MAX_FILE_NODES

N = MAX_FILE_NODES


# Every text is exactly at its bound: N nodes. Made when written, in a process of
# its own: a child forked from a process holding them would start with their pages.
def scalar_documents() -> str:
    return "--- x\n" * N  # one node each, each "not a mapping"


def id_documents() -> str:
    return "".join(f"---\nid: a:{i}\n" for i in range(N // 3)) + "--- x\n"


def unknown_keys() -> str:
    return "".join(f"k{i}: {i % 10}\n" for i in range(N // 2))


def short_items() -> str:
    return "items:\n" + "- x\n" * (N - 3)


def flow_items() -> str:
    return "items: [" + ",".join("x" * (N - 3)) + "]\n"


def long_text() -> str:  # few nodes, as many bytes as one file may hold
    return "id: a:b\ndescription: " + "x" * (MAX_FILE_BYTES - 40) + "\n"


def past_one_file() -> str:
    return short_items() + "- x\n"


def issue_23() -> str:
    return "".join(f"k{i}: {i}\n" for i in range(669_000))[:MAX_FILE_BYTES]


def one_file(text: Callable[[], str]) -> Callable[[Path], None]:
    def write(models: Path) -> None:
        (models / "input.yaml").write_text(text(), encoding="utf-8")

    return write


def many_files(text: Callable[[], str], count: int) -> Callable[[Path], None]:
    def write(models: Path) -> None:
        made = text()
        for index in range(count):
            (models / f"input-{index:03d}.yaml").write_text(made, encoding="utf-8")

    return write


def valid_models(count: int) -> Callable[[Path], None]:
    def write(models: Path) -> None:
        for index in range(count):
            shard = models / f"team-{index % 20:02d}"
            shard.mkdir(exist_ok=True)
            text = yaml.safe_dump(definition(index), sort_keys=False)
            (shard / f"model-{index:05d}.yaml").write_text(text, encoding="utf-8")

    return write


FILES = DEFAULT_TOTAL_NODES // N
CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "documents": ("one file: 100,000 one-node documents", one_file(scalar_documents)),
    "ids": ("one file: 33,333 documents of an id only", one_file(id_documents)),
    "keys": ("one file: 50,000 unknown keys", one_file(unknown_keys)),
    "items": ("one file: a list of 99,997 items", one_file(short_items)),
    "flow": ("one file: a flow list of 99,997 items", one_file(flow_items)),
    "long": ("one file: 10 MB of text in 5 nodes", one_file(long_text)),
    "total-documents": (
        f"a run: {FILES} files of 100,000 one-node documents",
        many_files(scalar_documents, FILES),
    ),
    "total-ids": (
        f"a run: {FILES} files of 33,333 id-only documents",
        many_files(id_documents, FILES),
    ),
    "total-models": (
        f"a run: {DEFAULT_TOTAL_NODES // 79:,} valid models (79 nodes each)",
        valid_models(DEFAULT_TOTAL_NODES // 79),
    ),
    "past-file": ("refused: one file of 100,001 nodes", one_file(past_one_file)),
    "issue-23": ("refused: issue 23's 10 MB of 669,000 lines", one_file(issue_23)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="the cases to run")
    parser.add_argument("--write", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        CASES[args.write[0]][1](Path(args.write[1]))
        return
    print(
        f"bounds: {MAX_FILE_NODES:,} nodes and {MAX_FILE_BYTES // 2**20} MB a file, "
        f"{DEFAULT_TOTAL_NODES:,} nodes and {DEFAULT_TOTAL_BYTES // 2**20} MB a run"
    )
    floor_cpu, floor_peak = timed([sys.executable, "-m", "registry_sync", "--version"])
    print(f"  {'registry-sync --version (the floor)':<52}{floor_cpu:6.2f} s {floor_peak:6.0f} MB")
    for name in args.only or CASES:
        title = CASES[name][0]
        with tempfile.TemporaryDirectory() as temp:
            models = Path(temp) / "models"
            models.mkdir()
            subprocess.run([sys.executable, __file__, "--write", name, str(models)], check=True)
            command = [sys.executable, "-m", "registry_sync", "validate", "--no-cache"]
            cpu, peak = timed([*command, "--models-dir", str(models)], ok=(0, 1))
        print(f"  {title:<52}{cpu:6.2f} s {peak:6.0f} MB")


if __name__ == "__main__":
    main()
