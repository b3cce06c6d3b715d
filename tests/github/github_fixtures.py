"""The fixtures the GitHub tests share, loaded by each test module's
``pytest_plugins``: the fake GitHub, the local registry, a models folder declaring
what the registry holds, and the fake runner in tmp_path (the checkout, where the
action reads registry-sync.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub, serve
from github_actions import API_KEY, Actions, make_models

from registry_sync.testing import RegistryServer


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
def registry(registry_seed: dict[str, Any]) -> Iterator[RegistryServer]:
    with RegistryServer(seed=registry_seed, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def models(tmp_path: Path, registry_seed: dict[str, Any]) -> Path:
    return make_models(tmp_path / "models", registry_seed)


@pytest.fixture
def actions(
    tmp_path: Path, github: FakeGitHub, registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> Actions:
    monkeypatch.chdir(tmp_path)
    return Actions(tmp_path, github, registry)
