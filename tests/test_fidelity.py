"""Plan and apply as the registry API behaves, end to end against the strict local server.

Clearing a field is one PATCH with null; a live null is absent; what the API cannot
accept fails plan at the file's line before anything is written; server defaults;
--replace; warnings and --strict; plans of the same inputs are byte-identical.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.testing import (
    Fault,
    RegistryServer,
    StoreRules,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-fidelity-3c9e1a"
API = "/api/v1/llm/models/registry"
CHAT = "team:chat"
SYSTEM = "team:system"

FULL = minimal_definition(
    CHAT,
    rpm=60,
    rateLimits=[{"scope": "global", "rpm": 100}],
    healthCheck={"mode": "preflight", "path": "/health"},
    hidden=True,
)


class Repo:
    """A repository folder with models/ and registry-sync.yaml, and a server."""

    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        self.models = root / "models"
        self.models.mkdir()

    def write(self, *bodies: dict[str, Any]) -> None:
        for old in self.models.glob("*.yaml"):
            old.unlink()
        for body in bodies:
            name = body["id"].replace(":", "-") + ".yaml"
            (self.models / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def config(self, text: str) -> None:
        (self.root / "registry-sync.yaml").write_text(text, "utf-8")

    def run(self, *args: str) -> Result:
        env = {"MKA1_API_KEY": KEY, "MKA1_API_URL": self.server.url, "NO_COLOR": None}
        return CliRunner().invoke(cli, list(args), env=env)

    def writes(self) -> list[tuple[str, str, Any]]:
        return [(r.method, r.path, r.body) for r in self.server.requests() if r.method != "GET"]


def seeded(*bodies: dict[str, Any], system: dict[str, Any] | None = None) -> dict[str, Any]:
    entries = [registry_model(body) for body in bodies]
    if system is not None:
        entries.append(registry_model(system, immutable=True))
    return list_response(entries)


@pytest.fixture
def make_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    servers: list[RegistryServer] = []

    def make(seed: dict[str, Any], **options: Any) -> Repo:
        server = RegistryServer(seed=seed, api_key=KEY, **options).start()
        servers.append(server)
        return Repo(tmp_path, server)

    yield make
    for server in servers:
        server.stop()


@pytest.mark.parametrize("store_nulls", [False, True], ids=["drops-key", "stores-null"])
@pytest.mark.parametrize("field", ["rpm", "rateLimits", "healthCheck"])
def test_removing_a_field_is_one_patch_with_null_and_the_next_plan_is_empty(
    make_repo: Any, field: str, store_nulls: bool
) -> None:
    repo = make_repo(seeded(FULL), store=StoreRules(store_nulls=store_nulls))
    repo.write({k: v for k, v in FULL.items() if k != field})

    planned = repo.run("plan")
    assert planned.exit_code == 0, planned.output
    assert f"- {field}: " in planned.stdout and " -> (removed)" in planned.stdout
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." in planned.stdout

    applied = repo.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert repo.writes() == [("PATCH", f"{API}/{CHAT}", {field: None})]
    stored = repo.server.entries()[CHAT]["definition"]
    assert (field in stored) is store_nulls

    again = repo.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_a_live_null_is_in_sync_with_a_file_that_omits_the_field(make_repo: Any) -> None:
    live = {**minimal_definition(CHAT), "hidden": None, "rpm": None}
    repo = make_repo(seeded(live))
    repo.write(minimal_definition(CHAT))

    result = repo.run("plan", "--detailed-exitcode")

    assert result.exit_code == 0, result.output


def test_export_never_writes_a_live_null(make_repo: Any) -> None:
    repo = make_repo(seeded({**minimal_definition(CHAT), "hidden": None}))

    result = repo.run("export", "--out-dir", "exported")

    assert result.exit_code == 0, result.output
    text = (repo.root / "exported" / "team" / "chat.yaml").read_text("utf-8")
    assert "hidden" not in text and "null" not in text


def test_a_reordered_modality_list_is_in_sync(make_repo: Any) -> None:
    capabilities = {"modalities": {"input": ["text", "image"], "output": ["text"]}}
    live = minimal_definition(CHAT, capabilities={**capabilities, "reasoning": False})
    repo = make_repo(seeded(live))
    reordered = copy.deepcopy(live)
    reordered["capabilities"]["modalities"]["input"] = ["image", "text"]
    repo.write(reordered)

    assert repo.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_new_file_without_api_provider_type_fails_plan_at_its_line(make_repo: Any) -> None:
    repo = make_repo(seeded())
    repo.write({k: v for k, v in minimal_definition(CHAT).items() if k != "apiProviderType"})

    for command in ("plan", "apply"):
        result = repo.run(command, "--auto-approve") if command == "apply" else repo.run(command)
        assert result.exit_code == 1, result.output
        assert (
            "models/team-chat.yaml:1: apiProviderType: missing: the registry API requires it "
            "to create an entry; declare one of groq, azure, meetkai, meetkaiGateway, fal, openai"
        ) in result.stderr
    assert repo.writes() == []


def test_a_live_entry_without_api_provider_type_is_in_sync_with_a_file_without_one(
    make_repo: Any,
) -> None:
    body = {k: v for k, v in minimal_definition(CHAT).items() if k != "apiProviderType"}
    repo = make_repo(seeded(body))
    repo.write(body)

    assert repo.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_file_that_omits_a_live_api_provider_type_fails_plan(make_repo: Any) -> None:
    repo = make_repo(seeded(minimal_definition(CHAT)))
    repo.write({k: v for k, v in minimal_definition(CHAT).items() if k != "apiProviderType"})

    result = repo.run("plan")

    assert result.exit_code == 1
    assert (
        "models/team-chat.yaml:1: apiProviderType: missing, but the registry entry has one: "
        "no update can clear apiProviderType and no re-create can omit it"
    ) in result.stderr


URL_FORM = {"url": "https://h.example.com/health", "method": "GET"}


def test_a_url_form_health_check_declared_as_live_is_in_sync_and_warned(make_repo: Any) -> None:
    body = minimal_definition(CHAT, healthCheck=URL_FORM)
    repo = make_repo(seeded(body))
    repo.write(body)

    planned = repo.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "models/team-chat.yaml:16: healthCheck: warning: the older {url, method}" in (
        planned.stderr
    )
    validated = repo.run("validate")
    assert validated.exit_code == 0 and "warning: the older {url, method}" in validated.stderr
    strict = repo.run("validate", "--strict")
    assert strict.exit_code == 1
    assert "models/team-chat.yaml:16: healthCheck: warning:" in strict.stderr
    assert repo.run("plan", "--strict").exit_code == 1
    assert repo.run("apply", "--strict", "--auto-approve").exit_code == 1


def test_writing_a_url_form_health_check_fails_plan(make_repo: Any) -> None:
    repo = make_repo(seeded(minimal_definition(CHAT)))
    repo.write(minimal_definition(CHAT, healthCheck=URL_FORM))

    result = repo.run("plan")

    assert result.exit_code == 1
    assert "models/team-chat.yaml:16: healthCheck: the {url, method} form cannot be written" in (
        result.stderr
    )


def test_warnings_do_not_stop_plan_and_strict_makes_them_fail(make_repo: Any) -> None:
    repo = make_repo(seeded(minimal_definition(CHAT, contextWindow=0)))
    repo.write(minimal_definition(CHAT, contextWindow=0))

    planned = repo.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    warning = "models/team-chat.yaml:16: contextWindow: warning: should be at least 1, got 0"
    assert warning in planned.stderr
    strict = repo.run("plan", "--strict")
    assert strict.exit_code == 1 and warning in strict.stderr


# --- server defaults ------------------------------------------------------------------


def test_a_server_default_declared_in_the_config_converges(make_repo: Any) -> None:
    repo = make_repo(seeded(), store=StoreRules(fill_defaults={"hidden": False}))
    repo.config("server_defaults:\n  hidden: false\n")
    repo.write(minimal_definition(CHAT))

    applied = repo.run("apply", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert repo.server.entries()[CHAT]["definition"]["hidden"] is False
    assert "server added" not in applied.stdout
    assert repo.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_field_the_server_added_is_reported_not_called_a_failure(make_repo: Any) -> None:
    repo = make_repo(seeded(), store=StoreRules(fill_defaults={"hidden": False}))
    repo.write(minimal_definition(CHAT))

    applied = repo.run("apply", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert (
        f"{CHAT}: created; it landed, and the server added hidden: false, which models/ does "
        "not declare: add it to server_defaults in registry-sync.yaml (or to the file)"
    ) in applied.stdout
    drift = repo.run("plan", "--detailed-exitcode")
    assert drift.exit_code == 2
    assert "- hidden: false -> (removed)" in drift.stdout


# --- --replace ----------------------------------------------------------------------------


def test_replace_is_only_what_the_user_asks_for(make_repo: Any) -> None:
    repo = make_repo(seeded(FULL))
    repo.write(FULL)

    assert repo.run("plan", "--detailed-exitcode").exit_code == 0
    result = repo.run("apply", "--replace", CHAT, "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "-/+ team:chat must be replaced" in result.stdout
    assert "--replace asks to delete and re-create it" in result.stdout
    assert [(method, path) for method, path, _ in repo.writes()] == [
        ("DELETE", f"{API}/{CHAT}"),
        ("POST", API),
    ]
    assert repo.writes()[1][2] == FULL


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (SYSTEM, f"--replace {SYSTEM}: immutable on the server"),
        ("team:other", "--replace team:other: no file in models/ declares it"),
        ("team:new", "--replace team:new: not in the registry"),
    ],
)
def test_replace_names_an_id_it_cannot_replace(make_repo: Any, target: str, message: str) -> None:
    system = minimal_definition(SYSTEM)
    repo = make_repo(seeded(FULL, system=system))
    repo.write(FULL, system, minimal_definition("team:new"))

    for command in ("plan", "apply"):
        result = repo.run(command, "--replace", target)
        assert result.exit_code == 1, result.output
        assert message in result.stderr
    assert repo.writes() == []
    if target == SYSTEM:
        assert "can never be deleted or re-created" in result.stderr


# --- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_two_plans_of_the_same_inputs_are_byte_identical(
    make_repo: Any, output_format: str
) -> None:
    repo = make_repo(seeded(FULL))
    created = {k: v for k, v in minimal_definition("team:new").items() if k != "created"}
    repo.write({k: v for k, v in FULL.items() if k != "rpm"}, created)

    first = repo.run("plan", "--format", output_format)
    second = repo.run("plan", "--format", output_format)

    assert first.exit_code == second.exit_code == 0, first.output
    assert first.stdout == second.stdout
    assert "(set at apply)" in first.stdout or '"created"' not in first.stdout


def test_a_saved_plan_stamps_created_at_apply_time(make_repo: Any) -> None:
    repo = make_repo(seeded())
    repo.write({k: v for k, v in minimal_definition(CHAT).items() if k != "created"})
    assert repo.run("plan", "--out", "plan.json").exit_code == 0
    assert "created" not in (repo.root / "plan.json").read_text("utf-8")

    applied = repo.run("apply", "plan.json", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    (posted,) = [body for method, _, body in repo.writes() if method == "POST"]
    assert isinstance(posted["created"], int) and posted["created"] > 1_700_000_000
    assert repo.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_landed_create_whose_answer_was_lost_counts_as_done_despite_server_defaults(
    make_repo: Any,
) -> None:
    repo = make_repo(seeded(), store=StoreRules(fill_defaults={"hidden": False}))
    repo.server.inject(Fault("drop", method="POST", after_apply=True))
    repo.write(minimal_definition(CHAT))

    applied = repo.run("apply", "--auto-approve", "--retry-budget", "0")

    assert applied.exit_code == 0, applied.output
    assert "the server added hidden: false" in applied.stdout
    assert len([method for method, _, _ in repo.writes() if method == "POST"]) == 1
