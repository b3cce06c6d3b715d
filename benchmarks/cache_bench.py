"""Benchmark: reading the parse cache of N model files, JSON against the alternatives.

Fills a cache with `registry-sync validate` over plan_bench's generated files, then
times (CPU, best of --repeat, collector paused as the loader runs) checking the
cache file's digest and decoding it with json, and for scale only, marshal and
pickle: neither is used, a cache restored from CI must be read as data, and both
run code or crash on crafted input. Also times what a warm run does per entry
(decode with type checks) and what a cold run's put does (the type walk, against
the JSON round trip it replaced).

    python benchmarks/cache_bench.py --models 10000
"""

from __future__ import annotations

import argparse
import gc
import hmac
import json
import marshal
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plan_bench import generate

from registry_sync.desired.parsecache import KEY_NAME, _decode, _plain
from registry_sync.settings.defaults import CACHE_DIR_ENV


def best(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.disable()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
        gc.enable()
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        models, _, _ = generate(root, args.models)
        command = [sys.executable, "-m", "registry_sync", "validate", "--models-dir", str(models)]
        env = {**os.environ, CACHE_DIR_ENV: str(root / "cache")}
        subprocess.run(command, env=env, check=True, capture_output=True)
        (pack,) = (root / "cache").glob("parse-*.cache")
        raw = pack.read_bytes()
        # A header line, the JSON, and a line with the HMAC-SHA256 of the JSON.
        raw = raw[raw.index(b"\n") + 1 : -66]
        key = (root / "cache" / KEY_NAME).read_bytes()
        data: dict[str, Any] = json.loads(raw)
        entries = list(data["entries"].values())
        packed, pickled = marshal.dumps(data), pickle.dumps(data, protocol=5)
        print(f"cache of {args.models} files: {len(raw) / 1e6:.1f} MB of JSON")
        rows = [
            ("HMAC-SHA256 of the file (used)", lambda: hmac.digest(key, raw, "sha256")),
            ("json.loads (used)", lambda: json.loads(raw)),
            ("marshal.loads (unsafe)", lambda: marshal.loads(packed)),
            ("pickle.loads (unsafe)", lambda: pickle.loads(pickled)),
            ("decode every entry", lambda: [_decode(entry) for entry in entries]),
            ("type walk (put)", lambda: [_plain(entry) for entry in entries]),
            ("JSON round trip (old put)", lambda: [json.loads(json.dumps(e)) for e in entries]),
        ]
        for name, work in rows:
            print(f"  {name:<31}{best(work, args.repeat):7.3f} s CPU")


if __name__ == "__main__":
    main()
