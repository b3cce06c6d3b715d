"""Benchmark: how long `registry-sync` takes to start, versus `import click`.

Times, in fresh processes (median of --repeat runs, after one warm-up run each):

* floor     -- ``python -c "import click"``: the least any click CLI costs;
* --help    -- ``registry-sync --help``;
* --version -- ``registry-sync --version``;
* validate  -- ``registry-sync validate`` of the bundled models/ (4 files).

Each runs the console script's code (``from registry_sync.cli import main; main()``)
with this interpreter. Prints the median wall and CPU (user + system) time of each
and its distance from the floor. Target: --help and --version within 0.1 s of the
floor (issue 12 item 5).

    python benchmarks/startup_bench.py --repeat 15
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = "from registry_sync.cli import main; main()"
CASES: list[tuple[str, list[str]]] = [
    ("floor", ["-c", "import click"]),
    ("--help", ["-c", CLI, "--help"]),
    ("--version", ["-c", CLI, "--version"]),
    ("validate", ["-c", CLI, "validate", "--models-dir", str(ROOT / "models")]),
]


def run_once(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``python ARGS`` (which must exit 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds over ``repeat`` runs, after a warm-up run."""
    run_once(args)  # bytecode caches and the page cache, as on a second start
    runs = [run_once(args) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per case (median)")
    options = parser.parse_args()
    results = {name: measure(args, options.repeat) for name, args in CASES}
    floor_wall, floor_cpu = results["floor"]
    print(f"median of {options.repeat} runs, Python {sys.version.split()[0]}")
    print(f"{'case':<10} {'wall':>8} {'cpu':>8} {'wall - floor':>13} {'cpu - floor':>12}")
    for name, (wall, cpu) in results.items():
        print(
            f"{name:<10} {wall * 1000:6.0f}ms {cpu * 1000:6.0f}ms "
            f"{(wall - floor_wall) * 1000:+11.0f}ms {(cpu - floor_cpu) * 1000:+10.0f}ms"
        )


if __name__ == "__main__":
    main()
