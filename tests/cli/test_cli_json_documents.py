"""Every JSON document a command prints carries `format_version`, of one type and form
(a string holding a whole number), and docs/json.md states each document's version."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from paths import ROOT

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-json-documents-51c8e0"
LIVE = minimal_definition("team:live-v1", auth={"type": "api-key", "envVar": "UPSTREAM"})
NEW = minimal_definition("team:new-v1", auth={"type": "api-key", "envVar": "UPSTREAM"})


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed=list_response([registry_model(LIVE)]), api_key=KEY) as running:
        yield running


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: RegistryServer) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "models").mkdir()
    for body in (LIVE, NEW):
        name = body["id"].replace(":", "-") + ".yaml"
        (tmp_path / "models" / name).write_text(yaml.safe_dump(body), encoding="utf-8")
    (tmp_path / "registry-sync.yaml").write_text(
        "environments:\n"
        + "".join(
            f"  {name}:\n    api_url: {server.url}\n    api_key_env: MKA1_API_KEY\n"
            for name in ("one", "two")
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def document(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, list(args), env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None}
    )
    # Whatever the exit code (health exits 1 for a model not yet in the registry),
    # the document is printed.
    assert result.stdout.startswith("{"), result.output
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


# Each document of docs/json.md's table of format versions, and a command printing it.
DOCUMENTS: dict[str, list[str]] = {
    "the plan": ["plan", "--env", "one", "--format", "json"],
    "several environments": ["plan", "--env", "one", "--env", "two", "--format", "json"],
    "validate": ["validate", "--format", "json"],
    "health": ["health", "--env", "one", "--format", "json"],
    "config": ["config", "--format", "json"],
    # Last: it changes the registry the others read.
    "the apply result": ["apply", "--env", "one", "--auto-approve", "--format", "json"],
}


def documented_versions() -> dict[str, str]:
    """The table of format versions in docs/json.md: document -> version."""
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    table = text.split("## Format versions", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| \[([^\]]+)\]\(#[\w-]+\) \| .* \| `\"(\d+)\"` \|$", table, re.M))


@pytest.mark.usefixtures("repo")
def test_every_json_document_carries_its_documented_format_version() -> None:
    documented = documented_versions()
    assert set(documented) == set(DOCUMENTS)
    for name, command in DOCUMENTS.items():
        printed = document(*command)
        version = printed["format_version"]
        # One type and form for all: a string holding a whole number.
        assert isinstance(version, str) and re.fullmatch(r"[1-9]\d*", version), name
        assert version == documented[name], name
        assert next(iter(printed)) == "format_version", f"{name}: not the first key"


def test_show_prints_the_saved_plan_with_its_version(repo: Path) -> None:
    saved = repo / "plan.json"
    CliRunner().invoke(
        cli,
        ["plan", "--env", "one", "--out", str(saved)],
        env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None},
    )
    assert document("show", str(saved), "--format", "json")["format_version"] == "2"
