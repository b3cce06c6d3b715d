"""`registry-sync validate --api`: the files checked for one API generation, and the
note when unpinned files are valid only for the catalog's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import minimal_definition

NOTE = "note: these files are valid for the catalog API"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "models").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MKA1_API", raising=False)
    return tmp_path


def write(project: Path, name: str, definition: dict[str, Any]) -> None:
    text = yaml.safe_dump(definition, sort_keys=False)
    (project / "models" / name).write_text(text)


def validate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["validate", "--models-dir", "models", *args], env=env)


OPENROUTER = minimal_definition("team:router", apiProviderType="openrouter")
AZURE = minimal_definition("team:azure", apiProviderType="azure")
CONTEXT_EXCEEDED = minimal_definition(
    "team:long",
    rerouteRules=[{"trigger": {"type": "context-exceeded"}, "targetModelId": "team:router"}],
)


def line_of(project: Path, name: str, text: str) -> int:
    lines = (project / "models" / name).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_catalog_accepts_what_only_it_knows(project: Path) -> None:
    write(project, "router.yaml", OPENROUTER)
    write(
        project,
        "embed.yaml",
        minimal_definition(
            "team:embed", apiFormat="embeddings", embeddingLimits={"maxBatchTokens": 8000}
        ),
    )
    result = validate("--api", "catalog")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2 model definitions in 2 files: valid.\n"
    assert NOTE not in result.stderr


def test_catalog_refuses_azure_and_context_exceeded_at_their_lines(project: Path) -> None:
    write(project, "router.yaml", OPENROUTER)
    write(project, "azure.yaml", AZURE)
    write(project, "long.yaml", CONTEXT_EXCEEDED)
    result = validate("--api", "catalog")
    assert result.exit_code == 1
    azure = line_of(project, "azure.yaml", "apiProviderType: azure")
    trigger = line_of(project, "long.yaml", "type: context-exceeded")
    assert f"models/azure.yaml:{azure}: apiProviderType: expected one of" in result.stderr
    assert "got 'azure'" in result.stderr
    assert f"models/long.yaml:{trigger}: rerouteRules[0].trigger" in result.stderr
    assert "error: models are invalid: 2 problems found" in result.stderr
    # Both are fine for the registry API.
    assert validate("--api", "registry").exit_code == 1  # openrouter is not
    (project / "models" / "router.yaml").unlink()
    (project / "models" / "long.yaml").write_text(
        yaml.safe_dump({**CONTEXT_EXCEEDED, "rerouteRules": []}, sort_keys=False)
    )
    assert validate("--api", "registry").exit_code == 0


def test_unpinned_files_valid_only_for_the_catalog_get_a_note(project: Path) -> None:
    write(project, "router.yaml", OPENROUTER)
    result = validate()
    assert result.exit_code == 1
    assert "apiProviderType" in result.stderr
    assert NOTE in result.stderr
    assert "'api: catalog' in registry-sync.yaml, or pass --api catalog" in result.stderr
    # The note goes to stderr whatever the format; the JSON stays a document.
    as_json = validate("--format", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["valid"] is False
    assert NOTE in as_json.stderr


def test_no_note_when_pinned_or_when_the_catalog_refuses_them_too(project: Path) -> None:
    write(project, "router.yaml", OPENROUTER)
    pinned = validate("--api", "registry")
    assert pinned.exit_code == 1
    assert NOTE not in pinned.stderr
    write(project, "azure.yaml", AZURE)  # valid for the registry, not for the catalog
    both = validate()
    assert both.exit_code == 1
    assert NOTE not in both.stderr


@pytest.mark.parametrize(
    ("config", "env"),
    [("api: catalog\n", None), ("", {"MKA1_API": "catalog"})],
    ids=["registry-sync.yaml", "MKA1_API"],
)
def test_the_setting_pins_it_too(project: Path, config: str, env: dict[str, str] | None) -> None:
    (project / "registry-sync.yaml").write_text(config)
    write(project, "router.yaml", OPENROUTER)
    result = validate(env=env)
    assert result.exit_code == 0, result.stderr
    # A flag wins over the file and the variable.
    assert validate("--api", "registry", env=env).exit_code == 1


def test_an_api_that_is_neither_is_refused(project: Path) -> None:
    result = validate("--api", "Catalog")
    assert result.exit_code == 1  # usage errors exit 1, like every error
    assert "'Catalog' is not one of 'registry', 'catalog'" in result.stderr
