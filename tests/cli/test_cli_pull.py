"""`registry-sync pull` end to end: a hand change in the local registry comes back
into the team's own commented files, in place, through the CLI over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.export.files import PLACEHOLDER_ENV_VAR
from registry_sync.testing import (
    RegistryServer,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)
from registry_sync.yamlio import roundtrip

KEY = "test-key-pull-7d41"
SECRET = "sk-live-pull-0123456789abcdefSECRET"
CHAT = "acme:chat"
FAST = "acme:fast"
LOCKED = "acme:locked"

MODELS = """\
# Chat models of the acme team.   Keep the fast one first in line.
id: acme:fast   # the fallback
provider: openai-compatible
modelId:   fast-v1
apiFormat: responses
apiProviderType: openai
auth: {type: none}
capabilities:
  modalities: {input: [ text ], output: [text]}
  reasoning: false
maxRetries: 2   # retries before the fallback

---
# The main model; staging overrides its window (overlays/staging/chat.yaml).
id: acme:chat
provider: openai-compatible
modelId: chat-v1
displayName: Chat ${tier}   # from vars:
apiFormat: responses
apiProviderType: openai
auth:
  type: none
capabilities:
  modalities:
    input: [text]
    output: [text]
  reasoning: true
contextWindow: 128000
rateLimits:
  - scope: global
    rpm: 6000
"""

OVERLAY = """\
id: acme:chat
# staging runs a smaller window
contextWindow: 8192
"""

READ_ONLY = """\
# Read-only: defined by the server.
id: acme:locked
provider: openai-compatible
modelId: locked
apiFormat: responses
apiProviderType: openai
auth: {type: none}
capabilities: {modalities: {input: [text], output: [text]}, reasoning: false}
"""

CONFIG = """\
environments:
  staging:
    api_url: {url}
    api_key_env: MKA1_API_KEY
    overlay: overlays/staging
    vars: {{tier: staging}}
"""


def live_definitions() -> list[dict[str, Any]]:
    """What the registry holds: exactly what the files give staging."""
    text = {"modalities": {"input": ["text"], "output": ["text"]}}
    return [
        minimal_definition(
            FAST,
            modelId="fast-v1",
            capabilities={**text, "reasoning": False},
            maxRetries=2,
        ),
        minimal_definition(
            CHAT,
            modelId="chat-v1",
            displayName="Chat staging",
            capabilities={**text, "reasoning": True},
            contextWindow=8192,
            rateLimits=[{"scope": "global", "rpm": 6000}],
        ),
    ]


@dataclass
class Repo:
    root: Path
    server: RegistryServer

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli, list(args), env={"MKA1_API_KEY": KEY, "NO_COLOR": "1", "MKA1_ENV": None}
        )

    def pull(self, *args: str) -> Result:
        return self.run("pull", "--env", "staging", "--no-cache", *args)

    def plan(self) -> Result:
        return self.run("plan", "--env", "staging", "--no-cache", "--detailed-exitcode")

    def patch(self, model_id: str, fields: dict[str, Any]) -> None:
        """A hand change in the registry, as someone makes it during an incident."""
        response = httpx.patch(
            f"{self.server.url}/api/v1/llm/models/registry/{quote(model_id, safe='')}",
            json=fields,
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert response.status_code == 200, response.text

    def files(self) -> dict[str, bytes]:
        return {
            path.relative_to(self.root).as_posix(): path.read_bytes()
            for path in sorted(self.root.rglob("*.yaml"))
        }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    seed = list_response(
        [
            *(registry_model(body) for body in live_definitions()),
            registry_model(
                minimal_definition(LOCKED, modelId="locked"), immutable=True, source="yaml"
            ),
        ]
    )
    with RegistryServer(seed=seed, api_key=KEY) as server:
        for name, text in (
            ("models/chat.yaml", MODELS),
            ("models/_read-only/locked.yaml", READ_ONLY),
            ("overlays/staging/chat.yaml", OVERLAY),
            ("registry-sync.yaml", CONFIG.format(url=server.url)),
        ):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
        repo = Repo(tmp_path, server)
        before = repo.plan()
        assert before.exit_code == 0, before.stdout + before.stderr
        yield repo


def changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    old, new = before.decode().splitlines(), after.decode().splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_a_hand_change_comes_back_on_its_own_line(repo: Repo) -> None:
    repo.patch(FAST, {"maxRetries": 5})
    before = repo.files()

    dry = repo.pull("--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == (
        "--- a/models/chat.yaml\n"
        "+++ b/models/chat.yaml\n"
        "@@ -8,7 +8,7 @@\n"
        " capabilities:\n"
        "   modalities: {input: [ text ], output: [text]}\n"
        "   reasoning: false\n"
        "-maxRetries: 2   # retries before the fallback\n"
        "+maxRetries: 5   # retries before the fallback\n"
        " \n"
        " ---\n"
        " # The main model; staging overrides its window (overlays/staging/chat.yaml).\n"
    )
    assert "Dry run: 1 file would change; nothing was written." in dry.stderr
    assert repo.files() == before

    pulled = repo.pull()
    assert pulled.exit_code == 0, pulled.stderr
    assert pulled.stdout == "updated models/chat.yaml\nPulled 1 entry into 1 file.\n"
    after = repo.files()
    assert {name for name in after if after[name] != before[name]} == {"models/chat.yaml"}
    assert changed_lines(before["models/chat.yaml"], after["models/chat.yaml"]) == [
        (
            "maxRetries: 2   # retries before the fallback",
            "maxRetries: 5   # retries before the fallback",
        )
    ]
    planned = repo.plan()
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    # Pulling again finds nothing to do.
    again = repo.pull()
    assert again.stdout == "Nothing to pull: the files hold what the registry holds.\n"


def test_a_value_the_overlay_set_goes_back_to_the_overlay(repo: Repo) -> None:
    repo.patch(CHAT, {"contextWindow": 4096, "rateLimits": [{"scope": "global", "rpm": 100}]})
    before = repo.files()
    pulled = repo.pull()
    assert pulled.exit_code == 0, pulled.stderr
    after = repo.files()
    overlay = "overlays/staging/chat.yaml"
    assert changed_lines(before[overlay], after[overlay]) == [
        ("contextWindow: 8192", "contextWindow: 4096")
    ]
    assert changed_lines(before["models/chat.yaml"], after["models/chat.yaml"]) == [
        ("    rpm: 6000", "    rpm: 100")
    ]
    assert repo.plan().exit_code == 0


def test_keys_the_registry_added_or_dropped_are_added_and_removed(repo: Repo) -> None:
    live = live_definitions()[0]
    capabilities = {**live["capabilities"], "supportsTopP": True}
    repo.patch(FAST, {"capabilities": capabilities, "maxRetries": None, "rpm": 60})
    assert repo.pull().exit_code == 0
    text = (repo.root / "models/chat.yaml").read_text(encoding="utf-8")
    assert "  reasoning: false\n  supportsTopP: true\n" in text
    assert "maxRetries" not in text
    assert "rpm: 60\n" in text
    assert "# Chat models of the acme team.   Keep the fast one first in line.\n" in text
    assert repo.plan().exit_code == 0


def test_a_variable_and_a_read_only_entry_are_reported_and_left_alone(repo: Repo) -> None:
    repo.patch(CHAT, {"displayName": "Chat by hand"})
    # The read-only entry differs from its file: the server's own, never pulled.
    (repo.root / "models/_read-only/locked.yaml").write_text(
        READ_ONLY.replace("modelId: locked", "modelId: locked-v0"), encoding="utf-8"
    )
    before = repo.files()
    pulled = repo.pull()
    assert pulled.exit_code == 0, pulled.stderr
    assert repo.files() == before
    assert (
        "note: acme:chat: displayName: models/chat.yaml writes it with ${VAR}: left as "
        "written (change the variable's value in registry-sync.yaml vars:)"
    ) in pulled.stderr
    assert (
        "note: acme:locked: read-only: the server defines it itself; pull never writes it "
        "into files"
    ) in pulled.stderr
    assert pulled.stdout == "Nothing to pull: the files hold what the registry holds.\n"


def test_a_write_the_loader_would_read_differently_is_refused(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.patch(FAST, {"maxRetries": 5})
    real = roundtrip._merge
    # ruamel.yaml's output, forced to quote the number: it would load as text.
    monkeypatch.setattr(
        roundtrip, "_merge", lambda *args: real(*args).replace("maxRetries: 5", "maxRetries: '5'")
    )
    before = repo.files()
    pulled = repo.pull()
    assert pulled.exit_code == 1
    assert (
        "error: models/chat.yaml: not written: the edited text would not read back as "
        "intended (document at line 2, maxRetries); nothing was written."
    ) in pulled.stderr
    assert repo.files() == before


def test_id_limits_the_pull(repo: Repo) -> None:
    repo.patch(FAST, {"maxRetries": 5})
    repo.patch(CHAT, {"contextWindow": 4096})
    pulled = repo.pull("--id", CHAT)
    assert pulled.exit_code == 0, pulled.stderr
    assert pulled.stdout == "updated overlays/staging/chat.yaml\nPulled 1 entry into 1 file.\n"
    assert "maxRetries: 2" in (repo.root / "models/chat.yaml").read_text(encoding="utf-8")
    unknown = repo.pull("--id", "acme:nope")
    assert unknown.exit_code == 1
    assert "'acme:nope' matches no id" in unknown.stderr


def test_a_live_secret_becomes_the_placeholder_with_a_warning(repo: Repo) -> None:
    repo.patch(FAST, {"auth": {"type": "api-key", "value": SECRET}})
    pulled = repo.pull()
    assert pulled.exit_code == 0, pulled.stderr
    text = (repo.root / "models/chat.yaml").read_text(encoding="utf-8")
    assert SECRET not in text + pulled.stdout + pulled.stderr
    assert f"envVar: {PLACEHOLDER_ENV_VAR}" in text
    assert "warning: acme:fast: auth.value holds a secret; not written" in pulled.stderr


def test_include_new_writes_undeclared_entries_in_exports_layout(repo: Repo) -> None:
    response = httpx.post(
        f"{repo.server.url}/api/v1/llm/models/registry",
        json=minimal_definition("acme:new-one"),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200, response.text
    without = repo.pull()
    assert "note: 1 live entry no file declares left out; --include-new writes them" in (
        without.stderr
    )
    assert not (repo.root / "models/acme").exists()
    dry = repo.pull("--include-new", "--dry-run")
    assert "--- /dev/null\n+++ b/models/acme/new-one.yaml\n" in dry.stdout
    assert not (repo.root / "models/acme").exists()
    pulled = repo.pull("--include-new")
    assert pulled.exit_code == 0, pulled.stderr
    assert pulled.stdout == "wrote models/acme/new-one.yaml\nPulled 0 entries into 1 file.\n"
    assert repo.plan().exit_code == 0


def test_export_merge_is_pull_include_new(repo: Repo) -> None:
    repo.patch(FAST, {"maxRetries": 5})
    response = httpx.post(
        f"{repo.server.url}/api/v1/llm/models/registry",
        json=minimal_definition("acme:new-one"),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200, response.text
    merged = repo.run("export", "--merge", "--env", "staging", "--out-dir", "models")
    assert merged.exit_code == 0, merged.stderr
    assert merged.stdout == (
        "updated models/chat.yaml\nwrote models/acme/new-one.yaml\nPulled 1 entry into 2 files.\n"
    )
    assert repo.plan().exit_code == 0
    refused = repo.run("export", "--merge", "--force", "--out-dir", "models")
    assert refused.exit_code == 1
    assert "--merge edits files in place: it takes no --force" in refused.stderr


def test_nothing_is_pulled_from_a_registry_that_cannot_be_read(repo: Repo) -> None:
    before = repo.files()
    broken = repo.run(
        "pull", "--env", "staging", "--api-url", "http://127.0.0.1:9", "--retry-budget", "0"
    )
    assert broken.exit_code == 1
    assert "error:" in broken.stderr
    assert repo.files() == before


def test_a_value_removed_live_that_models_declares_becomes_null_in_the_overlay(
    repo: Repo,
) -> None:
    repo.patch(CHAT, {"contextWindow": None})
    assert repo.pull().exit_code == 0
    overlay = (repo.root / "overlays/staging/chat.yaml").read_text(encoding="utf-8")
    assert overlay == OVERLAY.replace("contextWindow: 8192", "contextWindow:")
    assert "contextWindow: 128000" in (repo.root / "models/chat.yaml").read_text(encoding="utf-8")
    assert repo.plan().exit_code == 0


def test_pull_from_a_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    definition = minimal_definition(FAST, modelId="fast-v1", maxRetries=2)
    with RegistryServer(
        catalog_list([catalog_entry(definition)]), api_key=KEY, api="catalog"
    ) as server:
        models = tmp_path / "models"
        models.mkdir()
        text = "# The fast one.\n" + yaml.safe_dump(definition, sort_keys=False)
        (models / "fast.yaml").write_text(text, encoding="utf-8")
        response = httpx.patch(
            f"{server.url}/api/v1/llm/models/catalog",
            json={"id": FAST, "maxRetries": 7},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert response.status_code == 200, response.text
        repo = Repo(tmp_path, server)
        pulled = repo.run("pull", "--api-url", server.url, "--no-cache")
        assert pulled.exit_code == 0, pulled.stderr
        assert (models / "fast.yaml").read_text(encoding="utf-8") == text.replace(
            "maxRetries: 2", "maxRetries: 7"
        )
        planned = repo.run("plan", "--api-url", server.url, "--detailed-exitcode", "--no-cache")
        assert planned.exit_code == 0, planned.stdout + planned.stderr


def test_an_id_the_environment_excludes_is_no_new_entry(repo: Repo) -> None:
    (repo.root / "overlays/staging/drop.yaml").write_text("exclude: [acme:fast]\n", "utf-8")
    before = repo.files()
    pulled = repo.pull("--include-new")
    assert pulled.exit_code == 0, pulled.stderr
    assert (
        "note: acme:fast: models/ declares it and this environment's overlay excludes it: left out"
    ) in pulled.stderr
    assert repo.files() == before


def test_a_file_edited_while_pull_runs_is_not_overwritten(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.patch(FAST, {"maxRetries": 5})
    models = repo.root / "models/chat.yaml"
    real = roundtrip._merge

    def someone_saves_meanwhile(*args: str) -> str:
        models.write_text(MODELS + "# saved by someone else\n", encoding="utf-8")
        return real(*args)

    monkeypatch.setattr(roundtrip, "_merge", someone_saves_meanwhile)
    pulled = repo.pull()
    assert pulled.exit_code == 1
    assert (
        "error: models/chat.yaml changed on disk since registry-sync read it; nothing was "
        "written: run the command again"
    ) in pulled.stderr
    assert models.read_text(encoding="utf-8") == MODELS + "# saved by someone else\n"
