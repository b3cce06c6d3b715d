"""The GitHub Action's plan never shows a live secret: the pull-request comment, the
job summary, the log, the step outputs and the plan file hold none of the five live
shapes of issue 23 (the same registry tests/test_secret_shapes.py plans)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fake_github import FakeGitHub, serve
from github_actions import API_KEY, PR_NUMBER, Actions
from leaky_registry import LIVE_SECRETS, declared, live_definitions

from registry_sync.schema.secrets import SENSITIVE
from registry_sync.testing import RegistryServer, list_response, registry_model


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    seed = list_response(registry_model(body) for body in live_definitions())
    with RegistryServer(seed=seed, api_key=API_KEY) as server:
        yield server


def test_the_plan_comment_summary_log_and_outputs_hide_every_live_shape(
    tmp_path: Path, github: FakeGitHub, registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    for model_id, body in declared().items():
        (models / f"{model_id.split(':')[1]}.yaml").write_text(yaml.safe_dump(body), "utf-8")
    actions = Actions(tmp_path, github, registry)
    run = actions.run(models)
    assert run.code == 0, run.log
    comments = [comment["body"] for comment in github.comments.get(PR_NUMBER, [])]
    assert comments
    assert SENSITIVE in comments[0]
    assert "t:envvars" in comments[0]
    everything = [
        run.log,
        run.summary,
        *run.outputs.values(),
        *comments,
        actions.plan_file.read_text("utf-8"),
    ]
    for text in everything:
        for secret in LIVE_SECRETS:
            assert secret not in text
