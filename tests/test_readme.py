"""The README's two commands keep working: CI runs one, and the other is tested here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = sh_blocks()[1].strip()
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.replace(".venv/bin/pip install -e", ".venv/bin/pip install -q -e") in ci


def test_readme_main_command_plans_the_bundled_example() -> None:
    main_command = sh_blocks()[0].strip()
    assert main_command.endswith("registry-sync plan --registry-file examples/registry.json")
    # The install half is what CI itself just did; run the plan half the same way.
    env = {k: v for k, v in os.environ.items() if k not in {"MKA1_API_KEY", "MKA1_API_URL"}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry_sync",
            "plan",
            "--registry-file",
            "examples/registry.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for mark in ("+ meetkai:", "~ meetkai:", "-> (removed)", "? meetkai:", "(sensitive)"):
        assert mark in result.stdout
    assert "1 in sync, 1 read-only in sync" in result.stdout


def test_readme_graph_example_is_what_graph_prints() -> None:
    shown = README.split("```mermaid\n", 1)[1].split("```", 1)[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry_sync",
            "graph",
            "--registry-file",
            "examples/registry.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown
