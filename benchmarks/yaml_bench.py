"""Benchmark: parsing N model files, the loader against plain libyaml.

Generates the files plan_bench.py writes (``yaml.safe_dump`` of its definitions) and
times, in this process, CPU seconds (best of --repeat, the two runs taking turns):

* libyaml          -- ``yaml.load_all(text, CSafeLoader)``: what the plan floor parses with;
* parse_documents  -- the loader: libyaml, its bounds and its constructor.

    python benchmarks/yaml_bench.py --models 10000
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

import yaml
from plan_bench import definition

from registry_sync.yamlio.source import parse_documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for count in args.models:
        texts = [yaml.safe_dump(definition(index), sort_keys=False) for index in range(count)]
        runs: dict[str, Callable[[str], Any]] = {
            "libyaml": _load_all,
            "parse_documents": parse_documents,
        }
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeat):
            for name, parse in runs.items():
                best[name] = min(best[name], _cpu(parse, texts))
        floor = best["libyaml"]
        print(f"{count:,} files, CPU seconds, best of {args.repeat}:")
        for name, seconds in best.items():
            print(f"  {name:<17}{seconds:7.2f} s  {seconds / floor:5.2f}x libyaml")


def _load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def _cpu(parse: Callable[[str], Any], texts: list[str]) -> float:
    """CPU seconds to parse every text, keeping the results as a loader would."""
    gc.collect()
    start = time.process_time()
    kept = [parse(text) for text in texts]
    seconds = time.process_time() - start
    del kept
    return seconds


if __name__ == "__main__":
    main()
