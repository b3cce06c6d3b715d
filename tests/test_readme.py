"""The README's two commands keep working: CI runs one, and the other is tested here.

The docs' graph example is what `graph` prints, and every link in README.md and docs/
resolves: each file exists and each `#anchor` names a heading of its page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = sh_blocks()[1].strip()
    assert "pytest" in test_command
    # Both environments: the catalog SDK's contract tests run in the second one.
    assert test_command.endswith(".venv-catalog/bin/python -m pytest tests/catalog_sdk")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    quiet = re.sub(r"(/bin/pip install) -e", r"\1 -q -e", test_command)
    assert quiet.count(" -q -e") == 2
    assert quiet in ci


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


def test_docs_graph_example_is_what_graph_prints() -> None:
    shown = COMMANDS.split("```mermaid\n", 1)[1].split("```", 1)[0]
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


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings (code blocks hold no headings)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(
        r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", markdown, flags=re.S), re.M
    ):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def test_heading_anchors_follow_githubs_rules() -> None:
    text = "# A: b\n```sh\n# not a heading\n```\n## The `x.yaml` file\n## A: b\n"
    assert heading_anchors(text) == {"a-b", "the-xyaml-file", "a-b-1"}


def test_every_link_in_the_readme_and_docs_resolves() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(pages) > 5
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and anchor not in heading_anchors(dest.read_text(encoding="utf-8")):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_every_docs_page_is_linked_from_the_readme_and_links_back() -> None:
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{page.name})" in README, page.name
        assert "](../README.md)" in page.read_text(encoding="utf-8").split("\n\n")[1], page.name
