"""The folder tree is the pipeline, and the suite holds it so (docs/architecture.md):
import-linter's contracts in pyproject.toml, and no long parameter lists."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import click
import pytest
from paths import ROOT

from registry_sync.render.formats import ENVIRONMENTS_FORMATS, PLAN_FORMATS
from registry_sync.render.graph import GRAPH_FORMATS
from registry_sync.render.health import HEALTH_FORMATS
from registry_sync.render.result import RESULT_FORMATS
from registry_sync.render.settings import SETTINGS_FORMATS

PACKAGE = ROOT / "registry_sync"
# Click passes every option of a command to its callback: those may be long.
MAX_PARAMETERS = 10


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package below ``root``, with the contracts of ``root``."""
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(command), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_import_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy_of_the_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package and its contracts, copied so a test can break them."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PACKAGE, root / "registry_sync", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        # The CLI may not reach past operations/ to the planner...
        ("cli/output.py", "registry_sync.plan.planner", "The CLI reaches the work through"),
        # ...nor a renderer load files, nor a lower stage import a higher one.
        ("render/text.py", "registry_sync.desired.loader", "Renderers read plan and result"),
        ("schema/values.py", "registry_sync.plan.model", "The pipeline's stages import"),
        ("live/entries.py", "registry_sync.desired.loader", "The pipeline's stages import"),
        ("settings/defaults.py", "registry_sync.testing", "Nothing that ships for users"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy_of_the_project: Path, module: str, forbidden: str, contract: str
) -> None:
    target = copy_of_the_project / "registry_sync" / module
    original = target.read_text(encoding="utf-8")
    target.write_text(f"{original}\nimport {forbidden}  # noqa\n", encoding="utf-8")
    try:
        result = lint_imports(copy_of_the_project)
    finally:
        target.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert forbidden in broken


def long_parameter_lists(root: Path) -> list[str]:
    """``file:function (count)`` for each function taking more than the limit, click's
    command callbacks (decorated with ``click.command``) aside."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if any(ast.unparse(d).startswith("click.command") for d in node.decorator_list):
                continue
            arguments = node.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
            count = len(names) + len(arguments.kwonlyargs)
            count += (arguments.vararg is not None) + (arguments.kwarg is not None)
            count -= bool(names) and names[0] in ("self", "cls")
            if count > MAX_PARAMETERS:
                found.append(f"{path.relative_to(root).as_posix()}:{node.name} ({count})")
    return found


def test_no_function_takes_more_than_ten_parameters() -> None:
    assert long_parameter_lists(PACKAGE) == []


def test_the_parameter_check_sees_a_long_list(tmp_path: Path) -> None:
    names = ", ".join(f"p{index}" for index in range(11))
    (tmp_path / "long.py").write_text(
        f"def long({names}): ...\n\n"
        f"class A:\n    def ok(self, {', '.join(f'p{i}' for i in range(10))}): ...\n\n"
        f"@click.command()\ndef command({names}): ...\n",
        encoding="utf-8",
    )
    assert long_parameter_lists(tmp_path) == ["long.py:long (11)"]


def format_choices(command: str) -> set[str]:
    from registry_sync.cli import cli

    found = cli.commands[command]
    option = next(p for p in found.params if p.name == "output_format")
    assert isinstance(option.type, click.Choice)
    return {str(choice) for choice in option.type.choices}


@pytest.mark.parametrize(
    ("command", "table"),
    [
        ("plan", PLAN_FORMATS),
        ("plan", ENVIRONMENTS_FORMATS),
        ("apply", RESULT_FORMATS),
        ("health", HEALTH_FORMATS),
        ("graph", GRAPH_FORMATS),
        ("config", SETTINGS_FORMATS),
    ],
)
def test_every_format_a_command_offers_has_one_renderer(
    command: str, table: Mapping[str, object]
) -> None:
    assert format_choices(command) == set(table)
