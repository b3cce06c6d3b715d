"""The public API and the architecture's boundaries, checked."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import registry_sync
from registry_sync import errors

PACKAGE = Path(registry_sync.__file__).parent


def test_all_is_sorted_and_complete() -> None:
    names = registry_sync.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(registry_sync, name), name
    public = {n for n in vars(registry_sync) if not n.startswith("_") and n[0].isupper()}
    public -= {
        name for name in vars(registry_sync) if inspect.ismodule(getattr(registry_sync, name))
    }
    assert public <= set(names)


def test_every_user_visible_error_derives_from_the_base() -> None:
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if cls.__module__ == errors.__name__:
            assert issubclass(cls, errors.RegistrySyncError), cls
            assert cls.__name__ in registry_sync.__all__


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


# The command line: the only package that imports click.
CLI_MODULES = {path.relative_to(PACKAGE).as_posix() for path in (PACKAGE / "cli").rglob("*.py")}
CLI_MODULES -= {"cli/commands/__init__.py"}


@pytest.mark.parametrize(
    ("dependency", "allowed"),
    [
        # One module speaks HTTP to the registry; the GitHub comment code and the
        # test server are HTTP of their own, outside the data flow.
        ("httpx", {"live/client.py", "github/api.py"}),
        ("click", CLI_MODULES),
        ("deepdiff", {"plan/compare.py"}),
    ],
)
def test_dependency_is_imported_only_where_the_architecture_says(
    dependency: str, allowed: set[str]
) -> None:
    users = {
        path.relative_to(PACKAGE).as_posix() for path in modules() if dependency in imports_of(path)
    }
    assert users == allowed


def calls_print(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for node in ast.walk(tree)
    )


def test_nothing_prints_outside_the_cli_layers() -> None:
    # The planner, applier and renderers return values; output goes through the cli/ package.
    quiet = ["plan/planner.py", "plan/compare.py", "apply/applier.py", "plan/model.py"]
    quiet += ["desired/loader.py"]
    quiet += ["export/files.py", "live/client.py", "plan/policy.py", "schema/reroutes.py"]
    quiet += ["render/graph.py"]
    paths = [PACKAGE / name for name in quiet] + sorted((PACKAGE / "render").glob("*.py"))
    paths += sorted((PACKAGE / "operations").glob("*.py"))
    assert [path.name for path in paths if calls_print(path)] == []


def test_the_lazy_names_are_the_public_api() -> None:
    # Every public name is imported on first use; the table must name each one once, in
    # the module the type checker's imports name.
    lazy = registry_sync._LAZY
    assert set(lazy) | {"__version__"} == set(registry_sync.__all__)
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    checked = {
        alias.name: node.module
        for block in tree.body
        if isinstance(block, ast.If)
        for node in ast.walk(block)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert checked == lazy
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = registry_sync.nothing
