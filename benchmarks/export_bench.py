"""Benchmark: `registry-sync export` of N entries, versus a yardstick.

The yardstick does the least an export can: read the same saved registry, write
each definition with libyaml's emitter (our key order, lists indented under their
key) to its own file. Both run in fresh processes; CPU seconds, best of --repeat.
Target of issue 15: export of 10,000 entries within 2x the yardstick.

    python benchmarks/export_bench.py --entries 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from plan_bench import definition, timed

from registry_sync.testing import list_response, registry_model

YARDSTICK = """
import importlib.util, json, sys
from pathlib import Path
import yaml
spec = importlib.util.spec_from_file_location("yamlemit", sys.argv[3])
emit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(emit)
out = Path(sys.argv[2])
for entry in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))["data"]:
    body = {k: v for k, v in entry["definition"].items() if k != "created"}
    text = yaml.dump(body, Dumper=yaml.CSafeDumper, sort_keys=False,
                     default_flow_style=False, allow_unicode=True, width=1_000_000)
    name = entry["id"].replace(":", "/") + ".yaml"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(emit.indent_sequences(text), encoding="utf-8")
"""
TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    emitter = Path(__file__).resolve().parent.parent / "registry_sync" / "yamlio" / "emit.py"
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        entries = []
        for index in range(args.entries):
            body = definition(index)
            body["created"] = 1_700_000_000
            entries.append(registry_model(body, created_at=1, updated_at=1))
        registry = root / "registry.json"
        registry.write_text(json.dumps(list_response(entries)), encoding="utf-8")

        def out() -> str:
            return tempfile.mkdtemp(dir=root)

        yardstick = min(
            timed([sys.executable, "-c", YARDSTICK, str(registry), out(), str(emitter)])[0]
            for _ in range(args.repeat)
        )
        export = min(
            timed(
                [
                    *(sys.executable, "-m", "registry_sync", "export"),
                    *("--registry-file", str(registry), "--out-dir", out()),
                ]
            )[0]
            for _ in range(args.repeat)
        )
    ratio = export / yardstick
    print(f"entries: {args.entries} (best of {args.repeat}, CPU seconds, fresh processes)")
    print(f"  yardstick   {yardstick:7.2f} s CPU")
    print(
        f"  export      {export:7.2f} s CPU  {ratio:5.2f}x the yardstick "
        f"(target <= {TARGET}x: {'met' if ratio <= TARGET else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
