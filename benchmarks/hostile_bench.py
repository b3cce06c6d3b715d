"""Benchmark: `registry-sync validate` on hostile files, each in a fresh process.

* unknown-keys -- one definition with N unknown keys (each a problem; lines were
  found by scanning the mapping, quadratic before the fix: 73 s at 40,000);
* fan-out      -- six levels of ten aliases each (20 s and 600 MB before);
* cycle        -- an alias inside its own anchor (hung before).

Prints wall time and peak memory per case. Target: each in a second or two.

    python benchmarks/hostile_bench.py --keys 40000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from registry_sync.testing import MINIMAL_MODEL_YAML

BASE = MINIMAL_MODEL_YAML


def cases(keys: int) -> dict[str, str]:
    fan_out = "l0: &l0 [a, b, c, d, e, f, g, h, i, j]\n" + "".join(
        f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]\n" for level in range(1, 6)
    )
    cycle = BASE.replace("auth:\n  type: api-key\n  envVar: CHAT_API_KEY\n", "")
    return {
        "unknown-keys": BASE + "".join(f"unknown{index}: {index}\n" for index in range(keys)),
        "fan-out": BASE + fan_out,
        "cycle": cycle + "auth: &a {type: composite, strategies: [*a]}\n",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40_000)
    options = parser.parse_args()
    for name, text in cases(options.keys).items():
        with tempfile.TemporaryDirectory() as folder:
            models = Path(folder, "models")
            models.mkdir()
            (models / f"{name}.yaml").write_text(text, encoding="utf-8")
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "registry_sync", "validate", "--models-dir", str(models)],
                capture_output=True,
                check=False,
            )
            elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{name:13} {elapsed:6.2f} s   peak RSS so far {peak:6.0f} MB")


if __name__ == "__main__":
    main()
