"""`registry-sync fmt` end to end: model files in one canonical form, comments kept,
meaning unchanged (the plan before and after is the same document)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from paths import ROOT

from registry_sync.cli import cli
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

MESSY = """\
# Chat models.   A comment with its own    spacing.
modelId: chat-v1   # upstream name
id: 'acme:chat'
apiFormat: responses
provider: openai-compatible
apiProviderType: "openai"
auth: {type: none}
capabilities: {reasoning: true, modalities: {input: [text], output: [text]}}
healthCheck:
  path: /health
  mode: 'preflight'   # probe first
rateLimits:
- rpm: 600
  scope: org   # per organisation
displayName: '2024-01-01'
---
# The second document.
id: acme:fast
provider: openai-compatible
modelId: fast-v1
apiFormat: responses
apiProviderType: openai
auth:
  type: none
capabilities:
  modalities:
    input:
      - text
    output:
      - text
  reasoning: false
"""

CANONICAL = """\
# Chat models.   A comment with its own    spacing.
id: acme:chat
provider: openai-compatible
modelId: chat-v1   # upstream name
displayName: '2024-01-01'
apiFormat: responses
apiProviderType: openai
auth:
  type: none
capabilities:
  modalities:
    input:
      - text
    output:
      - text
  reasoning: true
rateLimits:
  - scope: org # per organisation
    rpm: 600
healthCheck:
  mode: preflight     # probe first
  path: /health
---
# The second document.
id: acme:fast
provider: openai-compatible
modelId: fast-v1
apiFormat: responses
apiProviderType: openai
auth:
  type: none
capabilities:
  modalities:
    input:
      - text
    output:
      - text
  reasoning: false
"""


def without_lines(document: Any) -> Any:
    """A JSON plan without the line numbers of its changes."""
    if isinstance(document, dict):
        return {key: without_lines(value) for key, value in document.items() if key != "line"}
    if isinstance(document, list):
        return [without_lines(item) for item in document]
    return document


KEY = "test-key-fmt-2b90"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "MKA1_API_KEY": None})


def run_keyed(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", "MKA1_API_KEY": KEY})


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "chat.yaml").write_text(MESSY, encoding="utf-8")
    fine = CANONICAL.split("---\n", 1)[1].replace("acme:fast", "acme:other")
    (folder / "fine.yaml").write_text(fine, encoding="utf-8")
    return folder


def test_fmt_rewrites_a_messy_file_keeping_comments_and_meaning(models: Path) -> None:
    # The registry differs from the files, so the plan has changes to compare.
    registry = models.parent / "registry.json"
    live = minimal_definition("acme:chat", modelId="chat-v0", contextWindow=4096)
    registry.write_text(json.dumps(list_response([registry_model(live)])), encoding="utf-8")
    plan = ("plan", "--registry-file", str(registry), "--format", "json", "--no-cache")
    before = run(*plan)
    assert before.exit_code == 0, before.stderr

    checked = run("fmt", "--check")
    assert checked.exit_code == 1
    assert checked.stdout == "would reformat models/chat.yaml\n"
    assert "1 of 2 files not formatted: run 'registry-sync fmt' to rewrite them" in checked.stderr
    assert (models / "chat.yaml").read_text(encoding="utf-8") == MESSY

    formatted = run("fmt")
    assert formatted.exit_code == 0, formatted.stderr
    assert formatted.stdout == "reformatted models/chat.yaml\n"
    assert (models / "chat.yaml").read_text(encoding="utf-8") == CANONICAL

    again = run("fmt", "--check")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout == "2 files formatted.\n"
    after = run(*plan)
    assert after.exit_code == 0, after.stderr
    # The same plan: only where the second document starts has moved (flow lists
    # written as blocks take more lines).
    assert without_lines(json.loads(after.stdout)) == without_lines(json.loads(before.stdout))
    assert [change["line"] for change in json.loads(after.stdout)["actions"]] == [2, 25, 2]


def test_fmt_formats_only_the_files_named(models: Path) -> None:
    (models / "other.yaml").write_text(MESSY.replace("acme:", "team:"), encoding="utf-8")
    result = run("fmt", "models/chat.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "reformatted models/chat.yaml\n"
    assert (models / "other.yaml").read_text(encoding="utf-8").startswith("# Chat models.")
    assert "modelId: chat-v1" in (models / "other.yaml").read_text(encoding="utf-8")


def test_a_file_that_does_not_parse_stops_fmt_naming_it(models: Path) -> None:
    (models / "broken.yaml").write_text("id: [acme\n", encoding="utf-8")
    result = run("fmt")
    assert result.exit_code == 1
    assert "error: models/broken.yaml:2: YAML syntax error" in result.stderr
    assert (models / "chat.yaml").read_text(encoding="utf-8") == MESSY


def test_the_projects_own_models_are_formatted() -> None:
    result = run("fmt", "--check", "--models-dir", str(ROOT / "models"))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_what_export_writes_is_already_formatted(models: Path) -> None:
    definitions = [
        minimal_definition(
            "acme:everything",
            displayName="off",
            baseUrl="https://llm.internal.example.com/v1",
            auth={"type": "custom-headers", "headers": {}, "envVars": {"X-Key": "KEY_VAR"}},
            capabilities={
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "reasoning": True,
                "supportedBase64Formats": ["png", "on", "1e3"],
            },
            rateLimits=[{"scope": "org", "rpm": 600, "queue": {"maxDepth": 1, "maxWaitMs": 2}}],
            defaultParams={"temperature": 0.7, "topP": 1e-05},
            healthCheck={"mode": "off"},
        ),
        minimal_definition("acme:minimal"),
    ]
    seed = list_response([registry_model(definition) for definition in definitions])
    with RegistryServer(seed=seed, api_key=KEY) as server:
        exported = run_keyed("export", "--api-url", server.url, "--out-dir", "exported")
    assert exported.exit_code == 0, exported.stderr
    result = run("fmt", "--check", "--models-dir", "exported")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == "2 files formatted.\n"


def test_the_pre_commit_hook_formats_the_model_files_committed(models: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(hook for hook in hooks if hook["id"] == "registry-sync-fmt")
    pattern = re.compile(hook["files"])
    assert pattern.search("models/chat.yaml") and pattern.search("models/vision/v.yml")
    assert not pattern.search("registry-sync.yaml")
    assert hook.get("pass_filenames", True) is True
    # What pre-commit runs: the entry, then the staged files that match.
    program, *args = shlex.split(hook["entry"])
    assert program == "registry-sync"
    result = run(*args, "models/chat.yaml")
    assert result.exit_code == 0, result.stderr
    assert (models / "chat.yaml").read_text(encoding="utf-8") == CANONICAL
