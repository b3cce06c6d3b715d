"""Start-up stays cheap: the CLI imports each heavy dependency only where it is used.

Each check runs in a fresh interpreter, so what an earlier test imported cannot hide
an eager import. Timings are benchmarks/startup_bench.py's business, not the tests'.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

from registry_sync.settings.defaults import CACHE_DIR_ENV

# The network client, the diff engine and the applier: what --help and validate never need.
HEAVY = ("httpx", "deepdiff", "registry_sync.apply.applier", "registry_sync.live.client")

PROBE = """
import json, sys
{setup}
print(json.dumps(sorted(sys.modules)))
"""
RUN_CLI = """
from registry_sync.cli import main
sys.argv = ["registry-sync", *{args!r}]
try:
    main()
except SystemExit:
    pass
"""


def modules_after(setup: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded once ``setup`` has run in a new interpreter (last line of
    stdout; the CLI's own output comes before it)."""
    return run_probe(setup, env)[0]


def run_probe(setup: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """:func:`modules_after`, and what the probe printed before the module list."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    *printed, modules = completed.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(printed)


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == h or name.startswith(h + ".") for h in HEAVY)
    )


def test_importing_the_cli_pulls_in_no_heavy_module() -> None:
    assert heavy_in(modules_after("import registry_sync.cli")) == []


def test_importing_the_package_pulls_in_nothing_but_its_version() -> None:
    loaded = {
        name for name in modules_after("import registry_sync") if name.startswith("registry_sync")
    }
    assert loaded == {"registry_sync", "registry_sync._version"}


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["plan", "--help"], ["validate", "--models-dir", "models"]]
)
def test_help_version_and_validate_pull_in_no_heavy_module(args: list[str]) -> None:
    modules = modules_after(RUN_CLI.format(args=args))
    assert heavy_in(modules) == []
    if args[0] == "validate":
        # It did validate: the model loader ran.
        assert "registry_sync.desired.loader" in modules


def test_the_probe_sees_a_heavy_import() -> None:
    # The check above can fail: the client does load httpx.
    assert "httpx" in modules_after("import registry_sync.live.client")


def test_a_warm_plan_against_a_saved_registry_builds_no_models_and_no_client(
    tmp_path: Path,
) -> None:
    """With the parse cache warm, plan --registry-file parses no YAML, reads no model
    through pydantic and needs neither the network client nor the diff engine; the
    cold run did parse and validate, so this check can fail."""
    plan = RUN_CLI.format(
        args=["plan", "--models-dir", "models", "--registry-file", "examples/registry.json"]
    )
    env = {CACHE_DIR_ENV: str(tmp_path / "cache"), "NO_COLOR": "1"}
    cold, cold_output = run_probe(plan, env)
    warm, warm_output = run_probe(plan, env)
    assert "registry_sync.schema.definition" in cold
    assert "registry_sync.yamlio.source" in cold
    assert "Plan: " in warm_output
    assert warm_output == cold_output
    unwanted = (
        *HEAVY,
        "pydantic",
        "registry_sync.schema.definition",
        "yaml",
        "registry_sync.yamlio.source",
    )
    assert [n for n in warm if any(n == u or n.startswith(u + ".") for u in unwanted)] == []
