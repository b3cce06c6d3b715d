"""The release: the built wheel works on its own, and the action's pins are complete.

The wheel test is what CI's `wheel` job does, without network: build the sdist and
the wheel (with the build backend of the test extra, --no-isolation), install the
wheel into a new venv outside the checkout, and run the offline commands there; then
start the local server from it (empty, and with the shipped example) and run the
README's quick start against it, in a folder with nothing of the checkout. The
new venv borrows this environment's installed dependencies through a .pth line
(which does not run this environment's own .pth files, so the editable install of
the checkout stays invisible to it); the package itself comes from the wheel.
"""

from __future__ import annotations

import json
import os
import re
import signal
import site
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from paths import EXAMPLE_REGISTRY, ROOT

CONSTRAINTS = ROOT / "action-constraints.txt"


def run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA1_", "PYTHON"))}
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The (sdist, wheel) that ``python -m build`` makes of this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT], dist)
    assert result.returncode == 0, result.stdout + result.stderr
    # setuptools' own deprecation notices ("SetuptoolsDeprecationWarning", e.g. for a
    # license table instead of an SPDX expression) must not appear.
    assert "Deprecat" not in result.stdout + result.stderr
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a new venv, outside the checkout, holding only the wheel."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    home = venv.parent
    result = run([sys.executable, "-m", "venv", "--without-pip", venv], home)
    assert result.returncode == 0, result.stderr
    python = venv / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], home)
    (Path(purelib.stdout.strip()) / "borrowed-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            built[1],
        ],
        home,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv / "bin"


def test_the_wheel_carries_the_licence_and_the_metadata(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as wheel:
        names = wheel.namelist()
        (metadata_name,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = wheel.read(metadata_name).decode("utf-8")
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "registry_sync/py.typed" in names
    # The schema data of each API generation, which validation is built from.
    for api in ("registry", "catalog"):
        assert f"registry_sync/schema/data/{api}.json" in names
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)
    assert "License-Expression: Apache-2.0" in text
    assert "Requires-Python: >=3.10" in text
    # The documentation pages (`registry-sync docs`) and the example registry
    # (`--seed example`) travel in the wheel: a pipx user has no checkout.
    for page in (ROOT / "docs").glob("*.md"):
        assert f"registry_sync/docs/{page.name}" in names, page.name
    assert "registry_sync/testing/data/example-registry.json" in names
    assert "Classifier: Programming Language :: Python :: 3.13" in text


def test_the_sdist_ships_what_the_tests_need(built: tuple[Path, Path]) -> None:
    with tarfile.open(built[0]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "docs/commands.md",
        "docs/configuration.md",
        "docs/github.md",
        ".ci/run",
        "action.yml",
        "action-constraints.txt",
        ".github/workflows/ci.yml",
        "examples/registry.json",
        "tests/conftest.py",
        "tests/paths.py",
        "tests/test_packaging.py",
    ):
        assert needed in names, needed
    for folder in ("tests/golden/", "tests/data/", "models/", "benchmarks/"):
        assert any(name.startswith(folder) for name in names), folder
    assert "registry_sync/_version.py" in names


def test_the_installed_wheel_runs_outside_the_checkout(
    installed: Path, built: tuple[Path, Path], tmp_path: Path
) -> None:
    code = "import registry_sync; print(registry_sync.__file__)"
    where = run([installed / "python", "-c", code], tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    version = built[1].name.split("-")[1]
    result = run([installed / "registry-sync", "--version"], tmp_path)
    assert result.stdout == f"registry-sync, version {version}\n", result.stderr

    models = ROOT / "models"
    result = run([installed / "registry-sync", "validate", "--models-dir", models], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(": valid.\n")

    result = run(
        [
            installed / "registry-sync",
            "plan",
            "--models-dir",
            models,
            "--registry-file",
            EXAMPLE_REGISTRY,
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "+ meetkai:" in result.stdout

    result = run([installed / "registry-sync", "schema"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "properties" in json.loads(result.stdout)

    code = (
        "from registry_sync.schema.definition import definition_json_schema as schema;"
        "print(schema('catalog')['properties']['apiProviderType']['enum'][-1])"
    )
    result = run([installed / "python", "-c", code], tmp_path)
    assert result.stdout == "openrouter\n", result.stderr


def test_the_installed_wheel_prints_its_documentation(installed: Path, tmp_path: Path) -> None:
    listed = run([installed / "registry-sync", "docs"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "  json " in listed.stdout
    page = run([installed / "registry-sync", "docs", "json"], tmp_path)
    assert page.stdout == (ROOT / "docs" / "json.md").read_text(encoding="utf-8")


def start_server(command: list[str | Path], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the local registry server as a user does; returns it, serving, and its
    banner's first line (which names its URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA1_", "PYTHON"))}
    server = subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    lines = [server.stdout.readline()]
    while lines[-1] and lines[-1] != "press Ctrl-C to stop\n":
        lines.append(server.stdout.readline())
    return server, lines[0]


def stop_server(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=30) == 0


def quick_start_commands() -> str:
    """The README's quick start against the local server, less its `export` line (the
    test sets the variables it names)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### 2. Plan and apply against the local registry server", 1)[1]
    block: str = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)[1]
    assert block.startswith("export MKA1_API_URL=")
    return block.split("\n", 1)[1]


def test_the_installed_local_server_starts_empty_without_a_seed(
    installed: Path, tmp_path: Path
) -> None:
    server, banner = start_server([installed / "python", "-m", "registry_sync.testing"], tmp_path)
    stop_server(server)
    assert banner.startswith("registry server listening on http://127.0.0.1:")
    assert banner.endswith(" (0 entries)\n")


def test_the_readme_quick_start_works_from_the_installed_wheel(
    installed: Path, tmp_path: Path
) -> None:
    server, banner = start_server(
        [installed / "registry-sync-local-server", "--seed", "example", "--api-key", "demo-key"],
        tmp_path,
    )
    try:
        assert banner.endswith(" (7 entries)\n"), banner
        url = re.findall(r"http://127\.0\.0\.1:\d+", banner)[0]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA1_", "PYTHON"))}
        env |= {
            "MKA1_API_URL": url,
            "MKA1_API_KEY": "demo-key",
            "PATH": f"{installed}{os.pathsep}{env.get('PATH', '')}",
        }
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", quick_start_commands()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        stop_server(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Exported 4 models to models/." in result.stdout
    assert "Plan: 1 to create, 1 to update," in result.stdout
    assert result.stdout.endswith(
        "No changes. The registry matches models/.\n"
        "Not listed: 5 in sync, 3 immutable server entries not declared.\n"
    )


# -- the action's constraints file --------------------------------------------------


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
            assert match, f"{CONSTRAINTS.name}: {line!r} is not name==version"
            found[canonicalize_name(match[1])] = match[2]
    return found


def runtime_requirements(name: str) -> list[Requirement]:
    """What distribution ``name`` needs at run time, on any Python (extras aside)."""
    requirements = [Requirement(line) for line in metadata.requires(name) or []]
    return [r for r in requirements if r.marker is None or "extra" not in str(r.marker)]


def test_the_action_pins_every_runtime_dependency_within_the_project_ranges() -> None:
    pinned = pins()
    for requirement in runtime_requirements("registry-sync"):
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not pinned in {CONSTRAINTS.name}"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}"
    # Walk the dependencies of every pinned version this environment also has installed
    # (for those, the installed metadata is the pinned version's): each must be pinned.
    seen: set[str] = set()
    todo = [requirement.name for requirement in runtime_requirements("registry-sync")]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        assert name in pinned, f"{name} (needed by registry-sync) is not in {CONSTRAINTS.name}"
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:  # another Python's dependency
            continue
        if installed == pinned[name]:
            todo.extend(requirement.name for requirement in runtime_requirements(name))
