"""``plan --format markdown`` and ``schema`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from registry_sync.cli import cli
from registry_sync.render.markdown import MARKER
from registry_sync.schema.definition import definition_json_schema
from registry_sync.testing import RegistryServer


@pytest.fixture
def models(tmp_path: Path, registry_seed: dict[str, Any]) -> Path:
    """models/ matching the seeded registry, with one database entry's rpm changed."""
    folder = tmp_path / "models"
    folder.mkdir()
    for index, entry in enumerate(registry_seed["data"]):
        definition = {
            k: v for k, v in entry["definition"].items() if k not in ("source", "immutable")
        }
        if definition["id"] == "meetkai:my-custom-chat-v1":
            definition["rpm"] = 1200
        (folder / f"{index}.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    return folder


def test_plan_markdown_prints_the_comment_and_out_keeps_json(
    registry_server: RegistryServer, models: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--models-dir",
            str(models),
            "--api-url",
            registry_server.url,
            "--format",
            "markdown",
            "--out",
            str(out),
            "--detailed-exitcode",
        ],
        env={"MKA1_API_KEY": "test-key"},
    )
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith(MARKER + "\n")
    assert "| `rpm` | `600` | `1200` |" in result.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format_version"] == "2"
    assert [a["id"] for a in document["actions"] if a["action"] == "update"] == [
        "meetkai:my-custom-chat-v1"
    ]


def test_schema_prints_the_definition_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema == definition_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"id", "provider", "modelId"} <= set(schema["properties"])
