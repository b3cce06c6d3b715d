"""Benchmark: in-place editing of N model files: `fmt --check`, `fmt`, and `pull` of
drift on one entry in ten, offline (a saved registry), against `plan` of the same files.

Each command runs in a fresh process; CPU seconds and peak memory, best of --repeat.

    python benchmarks/edit_bench.py --entries 1000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from plan_bench import definition, timed

from registry_sync.testing import list_response, registry_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tool = [sys.executable, "-m", "registry_sync"]
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        bodies = [{**definition(index), "created": 1_700_000_000} for index in range(args.entries)]
        registry = root / "registry.json"
        registry.write_text(
            json.dumps(list_response(registry_model(body) for body in bodies)), encoding="utf-8"
        )
        models = root / "models"
        timed([*tool, "export", "--registry-file", str(registry), "--out-dir", str(models)])
        for body in bodies[:: max(1, args.entries // 10)]:
            body["contextWindow"] = 4096  # drift on one entry in ten
        drifted = root / "drifted.json"
        drifted.write_text(
            json.dumps(list_response(registry_model(body) for body in bodies)), encoding="utf-8"
        )
        pristine = root / "pristine"
        shutil.copytree(models, pristine)
        offline = ["--registry-file", str(drifted), "--no-cache", "--models-dir", str(models)]
        commands = {
            "plan": [*tool, "plan", *offline],
            "fmt --check": [*tool, "fmt", "--check", "--models-dir", str(models)],
            "pull --dry-run": [*tool, "pull", "--dry-run", *offline],
            "pull": [*tool, "pull", *offline],
        }
        print(
            f"{args.entries} model files, one in ten drifted; CPU s / peak MB, "
            f"best of {args.repeat}"
        )
        for name, command in commands.items():
            runs = []
            for _ in range(args.repeat):
                shutil.rmtree(models)
                shutil.copytree(pristine, models)
                runs.append(timed(command))
            cpu = min(run[0] for run in runs)
            memory = min(run[1] for run in runs)
            print(f"  {name:<15} {cpu:6.2f} s  {memory:6.0f} MB")


if __name__ == "__main__":
    main()
