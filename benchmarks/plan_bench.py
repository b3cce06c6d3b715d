"""Benchmark: `registry-sync plan` end to end against N models, versus the floor.

Generates N model files and a matching saved registry with about 1% drift, then
measures the CPU time of each process, best of --repeat rounds; each round runs every
command once, in turn, in a fresh process, so a slow spell of a shared machine weighs
on the floor and the plan alike. Beside the best, each line prints the median of the
per-round ratios (the command against the floor of the same round). The package's
bytecode is compiled first, as an installed wheel has it:

* floor      -- only reading the same YAML files (libyaml) and the JSON snapshot;
* plan, cold -- `registry-sync plan --registry-file ...` with an empty parse cache;
* plan, warm -- the same with the cache a previous run left;
* 100% drift -- (--drift) cold, against a registry where every managed entry differs
                by a scalar (a number changed at the top and in a list of mappings);
* list drift -- (--drift) the same, but half of the entries differ by a list that
                changes length instead (issue 19): a modality, a rate-limit scope or a
                reroute rule more or fewer on the server than in the file.

Prints each as a ratio to the floor, with the targets of issue 15: cold <= 1.3x at
2,000 and <= 1.15x at 10,000, warm <= 0.3x and 100% drift <= 2x at 10,000 (and, by
issue 19, list drift <= 2x there too).
--memory runs each once and compares peak memory (target <= 1.25x the floor's).

--overlay adds a run of an environment (``--env bench``) whose overlay touches 10% of
the models (a changed field, a merged mapping and a ``${VAR}`` each), against a
registry holding the overlaid values; its floor reads the base and overlay files,
and its target is the cold one (issue 13: overlays cost no more than the base).

    python benchmarks/plan_bench.py --models 2000 10000 --drift --overlay
    python benchmarks/plan_bench.py --models 100000 --memory
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from registry_sync.desired.parsecache import SETTLE_NS
from registry_sync.settings.defaults import DEFAULT_TOTAL_BYTES, DEFAULT_TOTAL_NODES
from registry_sync.testing import list_response, registry_model

# When every live entry was created and last updated (epoch milliseconds).
CREATED_AT = 1_700_000_000_000

FLOOR = """
import json, sys
from pathlib import Path
import yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
root = Path(sys.argv[1])
docs = [
    d
    for p in sorted(root.rglob("*.yaml"))
    for d in yaml.load_all(p.read_text(encoding="utf-8"), Loader=loader)
]
data = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
assert len(docs) == len(data["data"]) - int(sys.argv[3])
for folder in sys.argv[4:]:
    docs.extend(
        d
        for p in sorted(Path(folder).rglob("*.yaml"))
        for d in yaml.load_all(p.read_text(encoding="utf-8"), Loader=loader)
    )
"""


def definition(index: int) -> dict[str, Any]:
    """A realistic definition: nested capabilities, auth, rate limits, reroutes."""
    body: dict[str, Any] = {
        "id": f"bench:model-{index:05d}",
        "provider": "openai-compatible",
        "modelId": f"model-{index:05d}",
        "displayName": f"Benchmark model {index}",
        "baseUrl": f"https://upstream-{index % 17}.example.com/v1",
        "apiFormat": "responses",
        "apiProviderType": "openai",
        "auth": {"type": "api-key", "envVar": f"UPSTREAM_{index % 17}_KEY"},
        "capabilities": {
            "modalities": {"input": ["text", "image"], "output": ["text"]},
            "reasoning": index % 2 == 0,
            "supportsTemperature": True,
        },
        # Every model reroutes long requests to model 0, which has the larger window.
        "contextWindow": 1_000_000 if index == 0 else 128000,
        "rateLimits": [
            {"scope": "org", "rpm": 600, "queue": {"maxDepth": 50, "maxWaitMs": 2000}},
            {"scope": "user", "rpm": 60},
        ],
        "defaultParams": {"temperature": 0.7, "topP": 0.95},
        "healthCheck": {"mode": "preflight", "path": "/health", "method": "GET"},
    }
    if index:
        body["rerouteRules"] = [
            {"trigger": {"type": "context-exceeded"}, "targetModelId": "bench:model-00000"}
        ]
    return body


def generate(root: Path, count: int) -> tuple[Path, Path, int]:
    """Write N model files, a registry with ~1% drift and the project's
    registry-sync.yaml (its limits); returns (models, registry, extra)."""
    models = root / "models"
    models.mkdir()
    data = []
    for index in range(count):
        body = definition(index)
        shard = models / f"team-{index % 20:02d}"
        shard.mkdir(exist_ok=True)
        (shard / f"model-{index:05d}.yaml").write_text(
            yaml.safe_dump(body, sort_keys=False), encoding="utf-8"
        )
        live = json.loads(json.dumps(body))
        live["created"] = 1_700_000_000
        if index % 100 == 1:
            live["contextWindow"] = 64000  # update
        elif index % 100 == 2:
            live["hidden"] = False  # replace
        elif index % 100 == 3:
            continue  # create
        data.append(registry_model(live, created_at=CREATED_AT, updated_at=CREATED_AT))
    extra = max(1, count // 200)
    for index in range(extra):
        extra_body = definition(count + index)
        extra_body["created"] = 1_700_000_000
        unmanaged = registry_model(extra_body, created_at=CREATED_AT, updated_at=CREATED_AT)
        data.append(unmanaged)
    registry = root / "registry.json"
    registry.write_text(json.dumps(list_response(data)), encoding="utf-8")
    # A model here holds about 80 YAML nodes and 700 bytes: past about 25,000 models
    # the files pass the default bound on a run's work, which the project raises.
    (root / "registry-sync.yaml").write_text(
        "limits:\n"
        f"  total_nodes: {max(DEFAULT_TOTAL_NODES, count * 100)}\n"
        f"  total_bytes: {max(DEFAULT_TOTAL_BYTES, count * 1000)}\n",
        encoding="utf-8",
    )
    missing = len([i for i in range(count) if i % 100 == 3])
    return models, registry, extra - missing


def drifted(registry: Path, count: int) -> Path:
    """The same registry with every managed entry differing from its file."""
    document = json.loads(registry.read_text(encoding="utf-8"))
    for entry in document["data"][:count]:
        entry["definition"]["contextWindow"] = 64000
        entry["definition"]["rateLimits"][0]["rpm"] = 300
    path = registry.with_name("registry-drift.json")
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def list_drifted(registry: Path, count: int) -> Path:
    """The same registry with every managed entry differing from its file: half as in
    :func:`drifted`, half by a list whose length differs (the common changes that
    were slow to diff, issue 19), in turn: a modality the file adds, a rate-limit
    scope the file adds, one the file removes, and a reroute rule the file removes."""
    document = json.loads(registry.read_text(encoding="utf-8"))
    for index, entry in enumerate(document["data"][:count]):
        body = entry["definition"]
        if index % 2 == 0:
            body["contextWindow"] = 64000
            body["rateLimits"][0]["rpm"] = 300
        elif index % 8 == 1:
            body["capabilities"]["modalities"]["input"] = ["text"]
        elif index % 8 == 3:
            del body["rateLimits"][1]
        elif index % 8 == 5:
            body["rateLimits"].append({"scope": "apiKey", "rpm": 30})
        else:
            # Every entry but the first already reroutes to it.
            rules = body.setdefault("rerouteRules", [])
            rules.append(
                {"trigger": {"type": "error-fallback"}, "targetModelId": "bench:model-00000"}
            )
    path = registry.with_name("registry-list-drift.json")
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def add_overlay(root: Path, count: int, registry: Path) -> tuple[Path, Path, Path]:
    """An environment whose overlay touches every tenth model (added to the project's
    registry-sync.yaml), and a registry holding the overlaid values; returns
    (config, overlay folder, registry)."""
    overlay = root / "overlays" / "bench"
    overlay.mkdir(parents=True)
    document = json.loads(registry.read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry for entry in document["data"]}
    for index in range(5, count, 10):
        model_id = f"bench:model-{index:05d}"
        (overlay / f"model-{index:05d}.yaml").write_text(
            f"id: {model_id}\n"
            f"displayName: Benchmark model {index} (${{tier}})\n"
            "defaultParams:\n  temperature: 0.2\n",
            encoding="utf-8",
        )
        entry = by_id.get(model_id)
        if entry is not None:
            entry["definition"]["displayName"] = f"Benchmark model {index} (bench)"
            entry["definition"]["defaultParams"]["temperature"] = 0.2
    overlaid = root / "registry-overlay.json"
    overlaid.write_text(json.dumps(document), encoding="utf-8")
    config = root / "registry-sync.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + "environments:\n"
        "  bench:\n"
        "    api_url: https://registry.invalid\n"
        "    api_key_env: BENCH_KEY\n"
        f"    overlay: {overlay}\n"
        "    vars: {tier: bench}\n",
        encoding="utf-8",
    )
    return config, overlay, overlaid


def timed(
    command: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0, 2)
) -> tuple[float, float]:
    """Run a command in a fresh process: (CPU seconds, peak RSS in MB) of that process;
    an exit code not in ``ok`` stops the benchmark."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=errors, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok:
            errors.seek(0)
            sys.stderr.write(errors.read()[-2000:].decode(errors="replace"))
            raise SystemExit(f"command failed ({process.returncode}): {' '.join(command)}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


# Targets of issue 15, as ratios to the floor.
COLD_TARGETS = {2_000: 1.3, 10_000: 1.15}
WARM_TARGETS = {10_000: 0.3}
DRIFT_TARGETS = {10_000: 2.0}
MEMORY_TARGET = 1.25


def line(
    name: str, seconds: float, floor: float, target: float | None, paired: list[float] | None = None
) -> str:
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target}x: {'met' if seconds / floor <= target else 'MISSED'})"
    median = ""
    if paired:
        # The ratio within each round, floor and command back to back: what a slow
        # spell of the machine moves least.
        ratios = sorted(paired)
        median = (
            f"; paired median {statistics.median(ratios):.2f}x"
            f" ({ratios[0]:.2f}x-{ratios[-1]:.2f}x, {len(ratios)} rounds)"
        )
    return f"  {name:<13}{seconds:7.2f} s CPU  {seconds / floor:5.2f}x the floor{verdict}{median}"


def bench(count: int, repeat: int, drift: bool, memory_only: bool, overlay: bool) -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        models, registry, extra = generate(root, count)
        generated = time.time()
        floor_cmd = [sys.executable, "-c", FLOOR, str(models), str(registry), str(extra)]

        def plan_cmd(saved: Path) -> list[str]:
            return [
                *(sys.executable, "-m", "registry_sync", "plan", "--models-dir", str(models)),
                *("--registry-file", str(saved), "--no-color"),
                *("--config", str(root / "registry-sync.yaml")),
            ]

        def fresh_cache() -> dict[str, str]:
            # A fresh, empty cache folder: the first run anywhere, writing the cache.
            return {"REGISTRY_SYNC_CACHE_DIR": tempfile.mkdtemp(dir=root)}

        print(f"models: {count} (best of {1 if memory_only else repeat}, fresh processes)")
        if memory_only:
            floor_cpu, floor_peak = timed(floor_cmd)
            plan_cpu, plan_peak = timed(plan_cmd(registry), fresh_cache())
            print(line("floor", floor_cpu, floor_cpu, None))
            print(line("plan, cold", plan_cpu, floor_cpu, None))
            ratio = plan_peak / floor_peak
            verdict = "met" if ratio <= MEMORY_TARGET else "MISSED"
            print(
                f"  peak memory  floor {floor_peak:.0f} MB, plan {plan_peak:.0f} MB: "
                f"{ratio:.2f}x (target <= {MEMORY_TARGET}x: {verdict})"
            )
            return
        # Every command once per round, in turn: a slower spell of the shared machine
        # (or the writeback of the files just generated) then weighs on all alike.
        runs: dict[str, tuple[list[str], Callable[[], dict[str, str]]]] = {
            "floor": (floor_cmd, dict),
            "plan, cold": (plan_cmd(registry), fresh_cache),
        }
        warm_cache = {"REGISTRY_SYNC_CACHE_DIR": str(root / "warm")}
        runs["plan, warm"] = (plan_cmd(registry), lambda: warm_cache)
        if drift:
            saved = drifted(registry, count - count // 100)
            runs["100% drift"] = (plan_cmd(saved), fresh_cache)
            saved = list_drifted(registry, count - count // 100)
            runs["list drift"] = (plan_cmd(saved), fresh_cache)
        if overlay:
            _, folder, overlaid = add_overlay(root, count, registry)
            overlay_cmd = [*plan_cmd(overlaid), "--env", "bench"]
            runs["overlay floor"] = (
                [*floor_cmd[:-2], str(overlaid), str(extra), str(folder)],
                dict,
            )
            runs["overlay plan"] = (overlay_cmd, lambda: {**fresh_cache(), "BENCH_KEY": "x"})
        # The warm runs find a cache a previous run left, with the files old enough
        # (parsecache.SETTLE_NS) for their status to be recorded.
        time.sleep(max(0.0, SETTLE_NS / 1e9 + 0.5 - (time.time() - generated)))
        timed(plan_cmd(registry), warm_cache)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeat):
            for name, (command, env) in runs.items():
                times[name].append(timed(command, env())[0])
        best = {name: min(spent) for name, spent in times.items()}

        def paired(name: str, floor_name: str = "floor") -> list[float]:
            pairs = zip(times[name], times[floor_name], strict=True)
            return [spent / floor for spent, floor in pairs]

        floor = best["floor"]
        print(line("floor", floor, floor, None))
        cold = COLD_TARGETS.get(count)
        print(line("plan, cold", best["plan, cold"], floor, cold, paired("plan, cold")))
        warm = WARM_TARGETS.get(count)
        print(line("plan, warm", best["plan, warm"], floor, warm, paired("plan, warm")))
        if drift:
            target = DRIFT_TARGETS.get(count)
            print(line("100% drift", best["100% drift"], floor, target, paired("100% drift")))
            print(line("list drift", best["list drift"], floor, target, paired("list drift")))
        if overlay:
            overlay_floor = best["overlay floor"]
            print(line("overlay floor", overlay_floor, overlay_floor, None))
            ratios = paired("overlay plan", "overlay floor")
            print(line("overlay plan", best["overlay plan"], overlay_floor, cold, ratios))


def compile_bytecode() -> None:
    """Compile the package's modules once, as installing a wheel does: a run that
    compiled them from source (under ``PYTHONDONTWRITEBYTECODE``, say) would time that."""
    import compileall

    import registry_sync

    compileall.compile_dir(Path(registry_sync.__file__).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--drift",
        action="store_true",
        help="also time plans where all differ (by scalars; half by list lengths)",
    )
    parser.add_argument(
        "--memory", action="store_true", help="one cold run per size: peak memory only"
    )
    parser.add_argument(
        "--overlay", action="store_true", help="also plan an environment overlaying 10%%"
    )
    args = parser.parse_args()
    compile_bytecode()
    for count in args.models:
        bench(count, args.repeat, args.drift, args.memory, args.overlay)


if __name__ == "__main__":
    main()
