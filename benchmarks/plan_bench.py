"""Benchmark: `registry-sync plan` end to end against N models, versus the floor.

Generates N model files and a matching saved registry with about 1% drift, then
times (best of --repeat runs, each in a fresh process):

* plan  -- `registry-sync plan --registry-file ...` as a user runs it;
* floor -- only reading the same YAML files (libyaml) and the JSON snapshot.

Prints wall times, the ratio plan/floor and the peak memory (max RSS) of each.
Target at N = 10,000: ratio within 1.5, peak memory under 300 MB.

A second run plans an environment (``--env bench``) whose overlay touches 10% of
the models (a changed field, a merged mapping and a ``${VAR}`` each), against a
registry holding the overlaid values; its floor reads the base and overlay files.
The target is the same ratio.

    python benchmarks/plan_bench.py --models 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

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
    """Write N model files and a registry with ~1% drift; returns (models, registry, extra)."""
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
    missing = len([i for i in range(count) if i % 100 == 3])
    return models, registry, extra - missing


def add_overlay(root: Path, count: int, registry: Path) -> tuple[Path, Path, Path]:
    """An environment whose overlay touches every tenth model, and a registry holding
    the overlaid values; returns (config, overlay folder, registry)."""
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
        "environments:\n"
        "  bench:\n"
        "    api_url: https://registry.invalid\n"
        "    api_key_env: BENCH_KEY\n"
        f"    overlay: {overlay}\n"
        "    vars: {tier: bench}\n",
        encoding="utf-8",
    )
    return config, overlay, overlaid


def timed(command: list[str]) -> tuple[float, float, int]:
    """Run a command in a fresh process: (seconds, peak RSS in MB, exit code)."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 2):
        sys.stderr.write(result.stderr[-2000:])
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(command)}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mb, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        models, registry, extra = generate(Path(temp), args.models)
        floor_cmd = [sys.executable, "-c", FLOOR, str(models), str(registry), str(extra)]
        plan_cmd = [
            sys.executable,
            "-m",
            "registry_sync",
            "plan",
            "--models-dir",
            str(models),
            "--registry-file",
            str(registry),
            "--no-color",
        ]
        # RUSAGE_CHILDREN's max RSS is the largest child so far: measure the floor first,
        # since the plan process is expected to be the larger one.
        floor = min(timed(floor_cmd)[0] for _ in range(args.repeat))
        floor_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        runs = [timed(plan_cmd) for _ in range(args.repeat)]
        plan = min(run[0] for run in runs)
        plan_peak = max(run[1] for run in runs)
        config, overlay, overlaid = add_overlay(Path(temp), args.models, registry)
        overlay_floor_cmd = [*floor_cmd[:-3], str(models), str(overlaid), str(extra), str(overlay)]
        overlay_floor = min(timed(overlay_floor_cmd)[0] for _ in range(args.repeat))
        overlay_cmd = [
            *plan_cmd[:7],
            str(overlaid),
            "--no-color",
            "--config",
            str(config),
            "--env",
            "bench",
        ]
        overlay_runs = [timed(overlay_cmd) for _ in range(args.repeat)]
        overlay_plan = min(run[0] for run in overlay_runs)
    print(f"models:        {args.models}")
    print(f"floor (read):  {floor:.2f} s   peak {floor_peak:.0f} MB")
    print(f"plan:          {plan:.2f} s   peak {plan_peak:.0f} MB")
    print(f"ratio:         {plan / floor:.2f}x  (target <= 1.5x; memory target < 300 MB)")
    print(f"overlay floor: {overlay_floor:.2f} s   (base and overlay files, 10% overlaid)")
    print(f"overlay plan:  {overlay_plan:.2f} s   (--env bench)")
    print(f"overlay ratio: {overlay_plan / overlay_floor:.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
