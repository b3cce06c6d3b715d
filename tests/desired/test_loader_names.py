"""The loader names files by string operations exactly as pathlib would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry_sync.desired.loader import _namer, load_models
from registry_sync.testing import MINIMAL_MODEL_YAML
from registry_sync.yamlio.files import display_path, walk_model_paths


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    models = tmp_path / "repo" / "models"
    (models / "team" / "deep").mkdir(parents=True)
    (models / "chat.yaml").write_text(MINIMAL_MODEL_YAML)
    (models / "team" / "deep" / "a\nb.yaml").write_text("")
    (models / "team" / "x.yml").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("cwd", "root"),
    [
        ("repo", "models"),
        ("repo", "./models/"),
        ("repo", "models/../models"),
        ("repo/models", "."),
        ("repo/models/team", ".."),
        ("repo/models/team", "ABSOLUTE"),  # run from inside the folder it names
        ("repo/models", "ABSOLUTE"),
        (".", "ABSOLUTE"),
        ("repo/models/team", "../../models"),
    ],
)
def test_names_are_what_pathlib_gives(
    tree: Path, cwd: str, root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / cwd)
    models = tree / "repo" / "models" if root == "ABSOLUTE" else Path(root)
    here = Path.cwd()
    files, _ = walk_model_paths(models, (".yaml", ".yml"))
    name = _namer(models, here)
    assert len(files) == 3
    assert [name(path) for path in files] == [display_path(Path(path), here) for path in files]
    assert all(path.startswith(os.path.join(os.fspath(models), "")) for path in files)
    notes = load_models(models).notes
    assert [note.split(": ")[0] for note in notes] == sorted(
        display_path(Path(path), here) for path in files if not path.endswith("chat.yaml")
    )
