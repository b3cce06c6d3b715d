"""Benchmark: parsing N model files, libyaml against the block YAML fast path.

Generates the files plan_bench.py writes (``yaml.safe_dump`` of its definitions) and
times, in this process, CPU seconds (best of --repeat, the three runs taking turns):

* libyaml      -- ``yaml.load_all(text, CSafeLoader)``: what the plan floor parses with;
* libyaml path -- ``parse_documents`` with the fast path off (libyaml and the loader's
                  constructor, as before the fast path);
* fast path    -- ``parse_documents`` as it runs now.

The target (issue 15): the fast path well under half of libyaml's time.

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

from registry_sync.yamlio.source import _BLOCK, _parse_with_libyaml, parse_documents

TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for count in args.models:
        texts = [yaml.safe_dump(definition(index), sort_keys=False) for index in range(count)]
        taken = sum(_BLOCK.documents(text) is not None for text in texts)
        runs: dict[str, Callable[[str], Any]] = {
            "libyaml": _load_all,
            "libyaml path": _parse_with_libyaml,
            "fast path": parse_documents,
        }
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeat):
            for name, parse in runs.items():
                best[name] = min(best[name], _cpu(parse, texts))
        floor = best["libyaml"]
        print(f"{count:,} files ({taken:,} on the fast path), CPU seconds, best of {args.repeat}:")
        for name, seconds in best.items():
            print(f"  {name:<13}{seconds:7.2f} s  {seconds / floor:5.2f}x libyaml")
        verdict = "met" if best["fast path"] / floor <= TARGET else "MISSED"
        print(f"  target: fast path <= {TARGET}x libyaml: {verdict}")


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
