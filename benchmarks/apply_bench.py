"""Benchmark: `registry-sync apply` of N creates against a registry with latency.

Generates N model files (each rerouting to the first, so the order matters), then,
for each --parallelism, starts an empty local registry that answers every request
after --latency seconds and runs `registry-sync apply --auto-approve` against it
in a fresh process, as a user would. Prints the wall time end to end and of the
write phase (first to last POST seen by the server), and checks that every entry
is present afterwards with the definition that was sent.

Target at N = 1,000 and 20 ms: --parallelism 8 at least 6x faster than 1.

    python benchmarks/apply_bench.py --models 1000 --latency 0.02

With --rate-limit, the adaptive writer's targets (2,000 creates, 20 ms, a registry
limited to 100 requests/s, --parallelism 32): writes at >= 85% of the limit, 0
failed writes, 429s < 5% of the writes; and, without a limit, no slower than the
fixed parallelism of --baseline (a commit before adaptive pacing, run from an
extracted copy of its registry_sync/):

    python benchmarks/apply_bench.py --models 2000 --parallelism 32 --rate-limit 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from registry_sync.testing import RegistryServer

KEY = "bench-key"


def definition(index: int) -> dict[str, Any]:
    """A realistic definition; every model but the first falls back to the first."""
    body: dict[str, Any] = {
        "id": f"bench:model-{index:05d}",
        "provider": "openai-compatible",
        "modelId": f"model-{index:05d}",
        "displayName": f"Benchmark model {index}",
        "baseUrl": f"https://upstream-{index % 17}.example.com/v1",
        "apiFormat": "responses",
        "apiProviderType": "openai",
        "created": 1_700_000_000,
        "auth": {"type": "api-key", "envVar": f"UPSTREAM_{index % 17}_KEY"},
        "capabilities": {
            "modalities": {"input": ["text", "image"], "output": ["text"]},
            "reasoning": index % 2 == 0,
        },
        # Every model reroutes long requests to model 0, which has the larger window.
        "contextWindow": 1_000_000 if index == 0 else 128000,
        "rateLimits": [{"scope": "org", "rpm": 600}],
    }
    if index:
        body["rerouteRules"] = [
            {"trigger": {"type": "context-exceeded"}, "targetModelId": "bench:model-00000"}
        ]
    return body


def generate(root: Path, count: int) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Write N model files in 20 folders; returns the folder and the bodies by id."""
    models = root / "models"
    bodies = {}
    for index in range(count):
        body = definition(index)
        bodies[body["id"]] = body
        shard = models / f"team-{index % 20:02d}"
        shard.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(body, sort_keys=False)
        (shard / f"model-{index:05d}.yaml").write_text(text, encoding="utf-8")
    # The repository root: no registry-sync.yaml above it is read.
    (root / ".git").mkdir()
    return models, bodies


class PostClock:
    """Records when the server answered each POST with success (its log callback)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        if line.startswith("POST ") and line.endswith(" -> 200"):
            with self._lock:
                self.times.append(time.perf_counter())

    def span(self) -> float:
        return self.times[-1] - self.times[0] if self.times else 0.0


@dataclass(frozen=True)
class Run:
    """One apply: wall time end to end, of the write phase, and what the registry saw."""

    elapsed: float
    writing: float
    written: int
    refused: int
    failed: int
    exit_code: int
    entries: dict[str, dict[str, Any]]


def run(
    root: Path,
    models: Path,
    parallelism: int,
    latency: float,
    *,
    rate_limit: float | None = None,
    source: Path | None = None,
    strict: bool = True,
) -> Run:
    """One apply against a fresh registry, in a fresh process, with the registry_sync
    of ``source`` (a folder holding it) or of this environment."""
    clock = PostClock()
    with RegistryServer(api_key=KEY, latency=latency, log=clock, rate_limit=rate_limit) as server:
        command = [
            sys.executable,
            "-m",
            "registry_sync",
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--parallelism",
            str(parallelism),
            "--models-dir",
            str(models),
            "--api-url",
            server.url,
        ]
        env = {**os.environ, "MKA1_API_KEY": KEY}
        env.pop("MKA1_API_URL", None)
        if source is not None:
            env["PYTHONPATH"] = str(source)
        start = time.perf_counter()
        result = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
        if result.returncode not in (0, 3) or (strict and result.returncode):
            sys.stderr.write(result.stdout[-2000:] + result.stderr[-2000:])
            raise SystemExit(f"apply --parallelism {parallelism} exited {result.returncode}")
        summary = json.loads(result.stdout)["summary"]
        return Run(
            elapsed,
            clock.span(),
            len(clock.times),
            0 if server.bucket is None else server.bucket.refused,
            summary["failed"] + summary["skipped"],
            result.returncode,
            server.entries(),
        )


def check(entries: dict[str, dict[str, Any]], bodies: dict[str, dict[str, Any]]) -> bool:
    """Every body is in the registry, exactly as sent, and nothing else is."""
    if set(entries) != set(bodies):
        return False
    for model_id, body in bodies.items():
        stored = entries[model_id]["definition"]
        if {k: v for k, v in stored.items() if k not in ("source", "immutable")} != body:
            return False
    return True


def baseline_source(ref: str, into: Path) -> Path:
    """registry_sync/ as of git ``ref``, extracted below ``into``."""
    archive = subprocess.run(
        ["git", "archive", ref, "registry_sync"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        check=True,
    )
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def rate_limited(args: argparse.Namespace) -> None:
    """The adaptive writer against a rate-limited registry, then without a limit."""
    parallelism = max(args.parallelism)
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        models, bodies = generate(root, args.models)
        limited = run(root, models, parallelism, args.latency, rate_limit=args.rate_limit)
        adaptive = run(root, models, parallelism, args.latency)
        baseline = None
        if args.baseline:
            old = baseline_source(args.baseline, root / "baseline")
            baseline = run(root, models, parallelism, args.latency, source=old)
    achieved = limited.written / limited.writing if limited.writing else 0.0
    share = achieved / args.rate_limit * 100
    refused = limited.refused / args.models * 100
    print(
        f"creates:        {args.models} ({args.latency * 1000:.0f} ms latency per request), "
        f"--parallelism {parallelism}"
    )
    print(
        f"limited to {args.rate_limit:g}/s: {limited.elapsed:6.2f} s end to end, "
        f"{limited.writing:6.2f} s writing; exit {limited.exit_code}"
    )
    print(f"  write rate     {achieved:6.1f}/s = {share:5.1f}% of the limit (target >= 85%)")
    print(f"  failed writes  {limited.failed:6d} (target 0)")
    print(f"  429s           {limited.refused:6d} = {refused:5.2f}% of the writes (target < 5%)")
    print(
        f"unlimited, adaptive:  {adaptive.elapsed:6.2f} s end to end, "
        f"{adaptive.writing:6.2f} s writing"
    )
    if baseline is not None:
        print(
            f"unlimited, {args.baseline} (fixed): {baseline.elapsed:6.2f} s end to end, "
            f"{baseline.writing:6.2f} s writing; adaptive / fixed = "
            f"{adaptive.elapsed / baseline.elapsed:.2f} end to end, "
            f"{adaptive.writing / baseline.writing:.2f} writing (target <= 1, within noise)"
        )
    complete = all(check(r.entries, bodies) for r in (limited, adaptive))
    if not complete:
        print("ENTRIES MISSING OR WRONG")
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="RPS",
        help="run the adaptive writer's targets against a registry limited to RPS",
    )
    parser.add_argument(
        "--baseline",
        default="1f803d0",
        metavar="REF",
        help="with --rate-limit: the commit to compare the unlimited run with ('' skips)",
    )
    args = parser.parse_args()
    if args.rate_limit is not None:
        rate_limited(args)
        return
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        models, bodies = generate(root, args.models)
        figures = {}
        for parallelism in args.parallelism:
            done = run(root, models, parallelism, args.latency)
            figures[parallelism] = (done.elapsed, done.writing, check(done.entries, bodies))
    print(f"creates:        {args.models} ({args.latency * 1000:.0f} ms latency per request)")
    for parallelism, (elapsed, writing, complete) in figures.items():
        state = "all present" if complete else "ENTRIES MISSING OR WRONG"
        print(
            f"parallelism {parallelism:<3} {elapsed:7.2f} s end to end, "
            f"{writing:6.2f} s writing; {state}"
        )
    low, high = min(figures), max(figures)
    if low != high:
        total = figures[low][0] / figures[high][0]
        writes = figures[low][1] / figures[high][1]
        print(
            f"speed-up {high} vs {low}: {total:.1f}x end to end, {writes:.1f}x writing "
            "(target >= 6x)"
        )
    if not all(complete for _, _, complete in figures.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
