"""Which API generation validates the files before the registry has been asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from registry_sync.desired.load import load_for_generation
from registry_sync.errors import InvalidModels
from registry_sync.testing import minimal_definition


def folder(tmp_path: Path, *bodies: dict[str, Any]) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    for index, body in enumerate(bodies):
        (models / f"m{index}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return models


AZURE = minimal_definition("a:azure", apiProviderType="azure")
OPENROUTER = minimal_definition("a:router", apiProviderType="openrouter")
BROKEN = {"id": "a:broken", "provider": "x"}


def test_files_valid_for_the_registry_generation_load_at_once(tmp_path: Path) -> None:
    result = load_for_generation(folder(tmp_path, AZURE), api=None)
    assert result is not None
    assert [d.id for d in result.definitions] == ["a:azure"]


def test_files_valid_only_for_the_catalog_wait_for_the_registry(tmp_path: Path) -> None:
    assert load_for_generation(folder(tmp_path, OPENROUTER), api=None) is None


def test_problems_that_depend_on_the_generation_wait_for_the_registry(tmp_path: Path) -> None:
    # azure is the registry's only, openrouter the catalog's only: the registry decides.
    assert load_for_generation(folder(tmp_path, AZURE, OPENROUTER), api=None) is None


def test_problems_of_both_generations_raise_at_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidModels) as raised:
        load_for_generation(folder(tmp_path, BROKEN, OPENROUTER), api=None)
    # Only what is wrong whichever generation reads the files: the missing fields.
    problems = raised.value.problems
    assert problems
    assert all(problem.file.endswith("m0.yaml") for problem in problems)
    assert all(problem.message == "missing required field" for problem in problems)


@pytest.mark.parametrize(("api", "body"), [("registry", OPENROUTER), ("catalog", AZURE)])
def test_a_pinned_generation_is_the_only_one(tmp_path: Path, api: str, body: Any) -> None:
    with pytest.raises(InvalidModels) as raised:
        load_for_generation(folder(tmp_path, body), api=api)
    assert [problem.path for problem in raised.value.problems] == ["apiProviderType"]
