"""`registry-sync apply` end to end: the CLI against the local registry over real HTTP.

Each test starts a registry seeded with one immutable entry and three database
entries, writes a models/ folder, and drives the CLI. Faults are injected into the
server; what reached the registry is read from its request log and its entries.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.live.client import RegistryClient
from registry_sync.testing import (
    Fault,
    RecordedRequest,
    RegistryServer,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-apply-e2e-5a1f0c9d7b3e"
API = "/api/v1/llm/models/registry"
SYSTEM = "meetkai:system-v1"  # immutable on the server
CHAT = "meetkai:chat-v1"
EMBED = "meetkai:embed-v1"
ROUTER = "meetkai:router-v1"  # reroutes to CHAT
NEW_A = "team:new-a"  # reroutes to NEW_B
NEW_B = "team:new-b"


def definition(model_id: str, **fields: Any) -> dict[str, Any]:
    """A small valid definition with an upstream key; ``fields`` add to it or replace its values."""
    upstream = {
        "modelId": model_id.split(":", 1)[1],
        "auth": {"type": "api-key", "envVar": "UPSTREAM_KEY"},
    }
    return minimal_definition(model_id, **{**upstream, **fields})


def reroute(target: str) -> list[dict[str, Any]]:
    return [{"trigger": {"type": "error-fallback"}, "targetModelId": target}]


LIVE = {
    SYSTEM: definition(SYSTEM, provider="meetkai", contextWindow=128000),
    CHAT: definition(CHAT, contextWindow=8192),
    EMBED: definition(
        EMBED, apiFormat="embeddings", embeddingLimits={"maxBatchSize": 512, "dimensions": 768}
    ),
    ROUTER: definition(ROUTER, rerouteRules=reroute(CHAT)),
}


def seed() -> dict[str, Any]:
    """A list response holding the LIVE entries: SYSTEM immutable, the rest database."""
    return list_response(
        registry_model(
            body,
            immutable=model_id == SYSTEM,
            created_at=1704067200000,
            updated_at=1704067200000 + number,
        )
        for number, (model_id, body) in enumerate(LIVE.items())
    )


# The models/ folder of the "every action kind" scenario, applied with --prune and
# --replace EMBED: CHAT updated, EMBED replaced (as asked; it also loses a field),
# ROUTER deleted, NEW_A and NEW_B created.
EVERY_KIND = (
    definition(CHAT, contextWindow=16384),
    definition(EMBED, apiFormat="embeddings"),
    definition(NEW_A, rerouteRules=reroute(NEW_B)),
    definition(NEW_B),
)


class Workspace:
    """A repository folder with models/, and a registry server to apply to."""

    def __init__(self, root: Path, server: RegistryServer) -> None:
        self.root = root
        self.server = server
        self.models = root / "models"

    def write_models(self, *definitions: dict[str, Any]) -> None:
        for old in self.models.glob("*.yaml"):
            old.unlink()
        self.models.mkdir(exist_ok=True)
        for body in definitions:
            name = body["id"].replace(":", "-") + ".yaml"
            (self.models / name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            cli,
            list(args),
            input=input,
            env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None},
        )

    def apply(self, *args: str, input: str | None = None) -> Result:
        return self.run("apply", "--api-url", self.server.url, *args, input=input)

    def plan(self, *args: str) -> Result:
        return self.run("plan", "--api-url", self.server.url, *args)

    def writes(self) -> list[RecordedRequest]:
        return [request for request in self.server.requests() if request.method != "GET"]

    def definitions(self) -> dict[str, dict[str, Any]]:
        """The registry's definitions by id, without the fields the server echoes."""
        return {
            model_id: {
                k: v for k, v in entry["definition"].items() if k not in ("source", "immutable")
            }
            for model_id, entry in self.server.entries().items()
        }


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    # The repository root: the configuration file is looked for no higher than .git.
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    with RegistryServer(seed=seed(), api_key=KEY) as server:
        yield Workspace(tmp_path, server)


def assert_every_kind_converged(workspace: Workspace) -> None:
    live = workspace.definitions()
    assert live[CHAT]["contextWindow"] == 16384
    assert "embeddingLimits" not in live[EMBED]
    assert ROUTER not in live
    assert live[NEW_A] == dict(EVERY_KIND[2])
    assert live[NEW_B] == dict(EVERY_KIND[3])
    assert live[SYSTEM] == LIVE[SYSTEM]


# -- converging ----------------------------------------------------------------------------


def test_apply_converges_every_action_kind_and_a_second_run_is_a_no_op(
    workspace: Workspace,
) -> None:
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--prune", "--replace", EMBED, "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "Plan: 2 to create, 1 to update, 1 to replace, 1 to delete." in result.stdout
    report = result.stdout.split("Apply report:\n", 1)[1]
    assert report == (
        f"  ~ {CHAT}: updated\n"
        f"  -/+ {EMBED}: replaced\n"
        f"  - {ROUTER}: deleted\n"
        f"  + {NEW_A}: created\n"
        f"  + {NEW_B}: created\n"
        "\n"
        "Apply complete: 2 created, 1 updated, 1 replaced, 1 deleted.\n"
    )
    # Not a terminal: no progress line (tests/cli/test_cli_progress.py has one).
    assert "Applying" not in result.stderr
    assert_every_kind_converged(workspace)
    assert [(r.method, r.path) for r in workspace.writes() if r.method == "PATCH"] == [
        ("PATCH", f"{API}/{CHAT}")
    ]
    assert [r.body for r in workspace.writes() if r.method == "PATCH"] == [{"contextWindow": 16384}]

    workspace.server.clear_requests()
    again = workspace.apply("--prune", "--auto-approve")

    assert again.exit_code == 0, again.output
    assert "No changes. The registry matches models/." in again.stdout
    assert "Apply report" not in again.stdout
    assert workspace.writes() == []


def test_a_saved_plan_is_applied_as_reviewed_without_rereading_models(
    workspace: Workspace,
) -> None:
    workspace.write_models(*EVERY_KIND)
    planned = workspace.plan("--prune", "--replace", EMBED, "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    # Whatever models/ says now, the reviewed plan is what gets applied.
    workspace.write_models(definition(CHAT, contextWindow=1))

    result = workspace.apply("plan.json", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 created, 1 updated, 1 replaced, 1 deleted." in result.stdout
    assert_every_kind_converged(workspace)
    workspace.write_models(*EVERY_KIND)
    after = workspace.plan("--prune", "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_models_dir_and_prune_do_not_go_with_a_saved_plan(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND)
    workspace.plan("--out", "plan.json")

    result = workspace.apply("plan.json", "--prune", "--auto-approve")

    assert result.exit_code == 1
    assert "--prune cannot be used with a saved plan" in result.stderr
    assert workspace.writes() == []


def test_no_changes_says_so_and_exits_0(workspace: Workspace) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER])

    result = workspace.apply()

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("No changes. The registry matches models/.")
    assert workspace.writes() == []


# -- order and determinism -------------------------------------------------------------------


def test_reroute_targets_are_created_before_and_deleted_after_their_referrers(
    workspace: Workspace,
) -> None:
    workspace.server.latency = 0.02
    # A chain of creates (a -> b -> c), and ROUTER (which reroutes to CHAT) pruned with CHAT.
    workspace.write_models(
        LIVE[EMBED],
        definition("team:a", rerouteRules=reroute("team:b")),
        definition("team:b", rerouteRules=reroute("team:c")),
        definition("team:c"),
    )

    result = workspace.apply("--prune", "--auto-approve", "--parallelism", "8")

    assert result.exit_code == 0, result.output
    posted = [r.body["id"] for r in workspace.writes() if r.method == "POST"]
    assert posted == ["team:c", "team:b", "team:a"]
    deleted = [r.path.rsplit("/", 1)[1] for r in workspace.writes() if r.method == "DELETE"]
    assert deleted == [ROUTER, CHAT]


def test_removing_a_nullable_field_is_one_patch_with_null_and_converges(
    workspace: Workspace,
) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[ROUTER], definition(EMBED, apiFormat="embeddings"))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 0, result.output
    assert "- embeddingLimits: {" in result.stdout and "-> (removed)" in result.stdout
    assert [(r.method, r.path, r.body) for r in workspace.writes()] == [
        ("PATCH", f"{API}/{EMBED}", {"embeddingLimits": None})
    ]
    assert "embeddingLimits" not in workspace.definitions()[EMBED]
    again = workspace.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_replace_deletes_before_it_posts(workspace: Workspace) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[ROUTER], LIVE[EMBED])

    result = workspace.apply("--replace", EMBED, "--auto-approve")

    assert result.exit_code == 0, result.output
    assert [(r.method, r.path) for r in workspace.writes()] == [
        ("DELETE", f"{API}/{EMBED}"),
        ("POST", API),
    ]


def test_output_is_the_same_whatever_order_the_writes_finish_in(workspace: Workspace) -> None:
    models = [definition(f"team:model-{n:02d}") for n in range(12)]
    workspace.write_models(
        definition(CHAT, contextWindow=16384), LIVE[EMBED], LIVE[ROUTER], *models
    )
    workspace.server.latency = 0.01
    # The first write in plan order (CHAT's PATCH) is rate limited once: it finishes last.
    workspace.server.inject(Fault("rate-limit", method="PATCH", retry_after="0.2"))
    scrambled = workspace.apply("--auto-approve", "--parallelism", "8")
    assert [r.method for r in workspace.writes()][-1] == "PATCH"

    with RegistryServer(seed=seed(), api_key=KEY) as other:
        in_order = CliRunner().invoke(
            cli,
            ["apply", "--api-url", other.url, "--auto-approve", "--parallelism", "1"],
            env={"MKA1_API_KEY": KEY, "MKA1_API_URL": None, "NO_COLOR": None},
        )
        other_url = other.url

    assert scrambled.exit_code == in_order.exit_code == 0, scrambled.output + in_order.output
    assert scrambled.stdout.replace(workspace.server.url, "URL") == in_order.stdout.replace(
        other_url, "URL"
    )
    assert scrambled.stderr == in_order.stderr


# -- faults ----------------------------------------------------------------------------------


def test_a_429_storm_slows_the_apply_down_and_it_still_succeeds(workspace: Workspace) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], definition(NEW_B))
    # More 429s than the client retries one request: apply re-queues it at lower parallelism.
    workspace.server.inject(Fault("rate-limit", method="POST", times=8, retry_after="0"))

    result = workspace.apply("--auto-approve", "--parallelism", "2")

    assert result.exit_code == 0, result.output
    assert "note: the registry keeps rate limiting; going on with 1 at a time" in result.stderr
    assert "Apply complete: 1 created, 0 updated, 0 replaced, 0 deleted." in result.stdout
    assert len(workspace.server.requests("POST")) == 9
    assert NEW_B in workspace.definitions()


# CHAT updated; NEW_A and NEW_B created, NEW_B first since NEW_A reroutes to it.
PARTIAL = (
    definition(CHAT, contextWindow=16384),
    LIVE[EMBED],
    LIVE[ROUTER],
    definition(NEW_A, rerouteRules=reroute(NEW_B)),
    definition(NEW_B),
)


def test_a_500_on_some_writes_skips_their_dependents_reports_and_exits_3(
    workspace: Workspace,
) -> None:
    workspace.write_models(*PARTIAL)
    workspace.server.inject(Fault("status", method="POST", status=500))  # NEW_B's

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 3, result.output
    report = result.stdout.split("Apply report:\n", 1)[1]
    assert report == (
        f"  ~ {CHAT}: updated\n"
        f"  + {NEW_A}: skipped (create): waits for {NEW_B} (it reroutes to {NEW_B}), "
        "whose create failed\n"
        f"  + {NEW_B}: FAILED (create): add registry model {NEW_B} failed: POST {API} "
        "returned 500: Internal Server Error\n"
        "\n"
        "Apply incomplete: 0 created, 1 updated, 0 replaced, 0 deleted; 1 failed, 1 skipped.\n"
        "The registry is now partly changed. Fix the cause and run `registry-sync apply` "
        "again: it continues where this run stopped.\n"
    )
    assert NEW_A not in workspace.definitions()

    again = workspace.apply("--auto-approve")

    assert again.exit_code == 0, again.output
    assert "Apply complete: 2 created, 0 updated, 0 replaced, 0 deleted." in again.stdout
    assert workspace.apply("--auto-approve").stdout.startswith("No changes.")


def test_when_every_write_fails_nothing_was_written_and_it_exits_1(workspace: Workspace) -> None:
    workspace.write_models(definition(CHAT, contextWindow=16384), LIVE[EMBED], LIVE[ROUTER])
    workspace.server.inject(Fault("status", method="PATCH", status=500))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 1, result.output
    assert "0 created, 0 updated, 0 replaced, 0 deleted; 1 failed, 0 skipped." in result.stdout
    assert "Nothing was written." in result.stdout
    assert workspace.definitions()[CHAT]["contextWindow"] == 8192


def test_a_write_whose_answer_was_lost_is_confirmed_and_never_sent_twice(
    workspace: Workspace,
) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], definition(NEW_B))
    # The POST lands, then the connection drops before the answer.
    workspace.server.inject(Fault("drop", method="POST", after_apply=True))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 0, result.output
    assert (
        f"  + {NEW_B}: created (no usable answer, but re-reading the registry shows it "
        "landed)" in result.stdout
    )
    assert len(workspace.server.requests("POST")) == 1
    again = workspace.plan()
    assert "No changes. The registry matches models/." in again.stdout
    assert "4 in sync" in again.stdout


def test_a_dropped_write_that_did_not_land_fails_and_the_next_run_creates_it(
    workspace: Workspace,
) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], definition(NEW_B))
    workspace.server.inject(Fault("drop", method="POST"))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 1, result.output
    assert f"  + {NEW_B}: FAILED (create): add registry model {NEW_B} failed: POST" in result.stdout
    assert "connection dropped" in result.stdout
    assert NEW_B not in workspace.definitions()
    again = workspace.apply("--auto-approve")
    assert again.exit_code == 0, again.output
    assert NEW_B in workspace.definitions()


def test_a_409_for_an_entry_an_earlier_attempt_created_counts_as_done(
    workspace: Workspace,
) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], definition(NEW_B))
    # The POST lands but the gateway answers 503; the client's retry then gets a 409.
    workspace.server.inject(Fault("status", method="POST", status=503, after_apply=True))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 0, result.output
    assert f"  + {NEW_B}: created (the registry already had it)" in result.stdout
    assert len(workspace.server.requests("POST")) == 2


def test_a_replace_whose_post_fails_shows_the_definition_to_restore(
    workspace: Workspace,
) -> None:
    wanted = definition(EMBED, apiFormat="embeddings")
    workspace.write_models(LIVE[CHAT], LIVE[ROUTER], wanted)
    workspace.server.inject(Fault("status", method="POST", status=500))

    result = workspace.apply("--replace", EMBED, "--auto-approve")

    assert result.exit_code == 3, result.output
    assert EMBED not in workspace.definitions()
    loud = f"{EMBED} WAS DELETED, BUT RE-CREATING IT FAILED: add registry model {EMBED} failed"
    assert loud in result.stdout
    assert loud in result.stderr  # at once, as well as in the final report
    restore = result.stdout.split("Definition to restore (POST it, or run apply again):\n")[1]
    restore_json = restore.split("\n\n")[0]
    assert json.loads(restore_json) == wanted
    closing = "Apply incomplete: 0 created, 0 updated, 0 replaced, 0 deleted; 1 failed"
    assert closing in result.stdout

    again = workspace.apply("--auto-approve")

    assert again.exit_code == 0, again.output
    assert f"+ {EMBED} will be created" in again.stdout
    assert workspace.definitions()[EMBED] == wanted


def test_a_write_answered_with_a_malformed_body_is_checked_and_counts_as_done(
    workspace: Workspace,
) -> None:
    workspace.write_models(definition(CHAT, contextWindow=16384), LIVE[EMBED], LIVE[ROUTER])
    # The PATCH lands, but the answer is an HTML page instead of the entry.
    workspace.server.inject(Fault("malformed", method="PATCH", after_apply=True))

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 0, result.output
    assert f"  ~ {CHAT}: updated (no usable answer, but re-reading" in result.stdout
    assert len(workspace.server.requests("PATCH")) == 1


class Meddler:
    """Changes the registry behind apply's back the moment a given write is answered."""

    def __init__(self, trigger: str, action: Any) -> None:
        self.trigger = trigger
        self.action = action
        self.server: RegistryServer | None = None

    def __call__(self, line: str) -> None:
        if line.startswith(self.trigger) and self.server is not None:
            server, self.server = self.server, None  # once
            self.action(server)


def test_an_entry_changed_by_someone_else_during_apply_is_reported_not_converged(
    workspace: Workspace,
) -> None:
    def change_it(server: RegistryServer) -> None:
        with RegistryClient(server.url, KEY, api="registry") as other:
            other.update_model(CHAT, {"contextWindow": 4096})

    meddler = Meddler(f"PATCH {API}/{CHAT}", change_it)
    workspace.write_models(definition(CHAT, contextWindow=16384), LIVE[EMBED], LIVE[ROUTER])
    with RegistryServer(seed=seed(), api_key=KEY, log=meddler) as server:
        meddler.server = server
        workspace.server = server
        result = workspace.apply("--auto-approve")

    assert result.exit_code == 3, result.output
    assert (
        f"  ~ {CHAT}: FAILED (update): updated, but re-reading the registry afterwards shows "
        "it differs" in result.stdout
    )


def test_a_final_check_that_cannot_read_the_registry_is_a_warning(
    workspace: Workspace,
) -> None:
    def break_reads(server: RegistryServer) -> None:
        server.inject(Fault("malformed", method="GET", times=100))

    meddler = Meddler(f"PATCH {API}/{CHAT}", break_reads)
    workspace.write_models(definition(CHAT, contextWindow=16384), LIVE[EMBED], LIVE[ROUTER])
    with RegistryServer(seed=seed(), api_key=KEY, log=meddler) as server:
        meddler.server = server
        workspace.server = server
        result = workspace.apply("--auto-approve", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["confirmed"] is False
    assert "unexpected response from GET" in document["unconfirmed_reason"]
    assert document["entries"][0]["outcome"] == "done"


def test_an_interrupted_apply_finishes_the_writes_in_flight_and_reports(
    workspace: Workspace,
) -> None:
    workspace.write_models(
        LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], *(definition(f"team:m{n}") for n in range(3))
    )
    # The signal must land while the first POST is in flight: generous, for loaded machines.
    workspace.server.latency = 1.0
    process = subprocess.Popen(
        [sys.executable, "-m", "registry_sync", "apply", "--auto-approve", "--parallelism", "1"],
        cwd=workspace.root,
        env={**os.environ, "MKA1_API_KEY": KEY, "MKA1_API_URL": workspace.server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not workspace.server.requests("POST") and process.poll() is None:
        assert time.monotonic() < deadline, "apply never sent its first POST"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 3, stdout + stderr
    assert "  + team:m0: created" in stdout
    assert "  + team:m2: skipped (create): not started: apply was interrupted" in stdout
    closing = "Apply interrupted: 1 created, 0 updated, 0 replaced, 0 deleted; 0 failed, 2 skipped"
    assert closing in stdout
    assert len(workspace.server.requests("POST")) == 1


# -- refusals: nothing is written -------------------------------------------------------------


def _update_chat(client: RegistryClient) -> None:
    client.update_model(CHAT, {"contextWindow": 4096})


def _create_new_b(client: RegistryClient) -> None:
    # Not as planned (one created as planned is applied already: test_cli_saved_plans).
    client.add_model(definition(NEW_B, contextWindow=1024))


def _delete_chat(client: RegistryClient) -> None:
    client.remove_model(CHAT)


def _delete_router(client: RegistryClient) -> None:
    client.remove_model(ROUTER)  # as the plan does: the rest is named


@pytest.mark.parametrize(
    ("meddle", "named"),
    [
        (_update_chat, f"{CHAT}: changed since the plan was made"),
        (_create_new_b, f"{NEW_B}: to be created, but it now exists"),
        (_delete_chat, f"{CHAT}: to be updated, but it no longer exists"),
        (_delete_router, f"already as planned: {ROUTER}"),
    ],
    ids=["changed", "created", "deleted", "partly-applied"],
)
def test_a_stale_saved_plan_is_refused_and_nothing_is_written(
    workspace: Workspace, meddle: Any, named: str
) -> None:
    workspace.write_models(*EVERY_KIND)
    assert workspace.plan("--prune", "--out", "plan.json").exit_code == 0
    with RegistryClient(workspace.server.url, KEY, api="registry") as other:
        meddle(other)
    workspace.server.clear_requests()

    result = workspace.apply("plan.json", "--auto-approve")

    assert result.exit_code == 1, result.output
    assert "error: apply refused; nothing was written:" in result.stderr
    assert f"  {named}\n" in result.stderr
    assert "run `registry-sync plan` again" in result.stderr
    assert workspace.writes() == []


def test_a_plan_for_another_registry_is_refused(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND)
    assert workspace.plan("--out", "plan.json").exit_code == 0
    workspace.server.clear_requests()

    with RegistryServer(seed=seed(), api_key=KEY) as other:
        result = workspace.run("apply", "plan.json", "--api-url", other.url, "--auto-approve")
        assert other.requests() == []
        other_url = other.url

    assert result.exit_code == 1
    assert f"was made for the registry {workspace.server.url}, not {other_url}" in result.stderr
    assert workspace.server.requests() == []


def _truncate(text: str) -> str:
    return text[: len(text) // 2]


def _version_3(text: str) -> str:
    return text.replace('"format_version": "2"', '"format_version": "3"')


def _edit_action(text: str) -> str:
    document = json.loads(text)
    for action in document["actions"]:
        if action["id"] == ROUTER:
            action["action"] = "no-op"
    return json.dumps(document)


def _add_secret(text: str) -> str:
    document = json.loads(text)
    for action in document["actions"]:
        if action["id"] == NEW_B:
            action["body"]["auth"] = {"type": "api-key", "value": "sk-live-0123456789abcdef"}
    return json.dumps(document)


def _list_response(text: str) -> str:
    return json.dumps({"object": "list", "data": []})


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_truncate, "is corrupt: not valid JSON at line"),
        (_version_3, 'has format_version "3", which this registry-sync cannot read'),
        (_edit_action, "is corrupt: summary: does not match the actions"),
        (_add_secret, "holds a secret"),
        (_list_response, "is not a registry-sync plan (a JSON object with a format_version)"),
    ],
    ids=["truncated", "unknown-version", "edited", "secret", "not-a-plan"],
)
def test_an_unusable_plan_file_is_refused_before_any_request(
    workspace: Workspace, corrupt: Any, message: str
) -> None:
    workspace.write_models(*EVERY_KIND)
    assert workspace.plan("--prune", "--out", "plan.json").exit_code == 0
    saved = workspace.root / "plan.json"
    saved.write_text(corrupt(saved.read_text("utf-8")), "utf-8")
    workspace.server.clear_requests()

    result = workspace.apply("plan.json", "--auto-approve")

    assert result.exit_code == 1
    assert message in result.stderr
    assert "sk-live" not in result.output
    assert workspace.server.requests() == []


@pytest.mark.parametrize(
    ("protect", "refusal"),
    [
        (
            "meetkai:embed-*",
            f"{EMBED} is protected (protect: 'meetkai:embed-*') and the plan "
            "would replace (delete and re-create) it",
        ),
        (ROUTER, f"{ROUTER} is protected (protect: '{ROUTER}') and the plan would delete it"),
    ],
    ids=["replace-by-glob", "delete-by-id"],
)
def test_a_plan_touching_a_protected_entry_is_refused(
    workspace: Workspace, protect: str, refusal: str
) -> None:
    (workspace.root / "registry-sync.yaml").write_text(
        f"protect:\n  - {json.dumps(protect)}\n", "utf-8"
    )
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--prune", "--replace", EMBED, "--auto-approve")

    assert result.exit_code == 1, result.output
    assert refusal in result.stderr
    assert workspace.writes() == []


def test_max_deletes_caps_the_deletes_of_one_plan(workspace: Workspace) -> None:
    workspace.write_models(LIVE[EMBED])  # prunes CHAT and ROUTER

    refused = workspace.apply("--prune", "--auto-approve", "--max-deletes", "1")

    assert refused.exit_code == 1
    assert "the plan deletes 2 entries, more than --max-deletes 1" in refused.stderr
    assert workspace.writes() == []
    allowed = workspace.apply("--prune", "--auto-approve", "--max-deletes", "2")
    assert allowed.exit_code == 0, allowed.output
    assert set(workspace.definitions()) == {SYSTEM, EMBED}


def test_a_prune_that_deletes_every_mutable_entry_needs_allow_delete_all(
    workspace: Workspace,
) -> None:
    workspace.models.mkdir()  # empty: the classic mistake

    refused = workspace.apply("--prune", "--auto-approve")

    assert refused.exit_code == 1
    assert "the plan deletes every mutable entry in the registry (3 of 3)" in refused.stderr
    assert "--allow-delete-all" in refused.stderr
    assert workspace.writes() == []
    allowed = workspace.apply("--prune", "--auto-approve", "--allow-delete-all")
    assert allowed.exit_code == 0, allowed.output
    assert set(workspace.definitions()) == {SYSTEM}


def test_a_read_only_conflict_applies_nothing(workspace: Workspace) -> None:
    workspace.write_models(
        definition(SYSTEM, provider="meetkai", contextWindow=1),
        definition(CHAT, contextWindow=16384),
        LIVE[EMBED],
        LIVE[ROUTER],
    )

    result = workspace.apply("--auto-approve")

    assert result.exit_code == 1
    assert f"{SYSTEM} is immutable on the server and its file differs" in result.stderr
    assert workspace.writes() == []


# -- approval ---------------------------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("registry_sync.cli.commands.apply._stdin_is_terminal", lambda: True)


@pytest.mark.usefixtures("terminal")
def test_answering_yes_applies(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--prune", input="yes\n")

    assert result.exit_code == 0, result.output
    assert "Apply these changes? Only 'yes' will be accepted: yes\n" in result.stdout
    assert result.stdout.index("Plan: 2 to create") < result.stdout.index("Apply these")
    assert_every_kind_converged(workspace)


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize("answer", ["no\n", "y\n", "\n", "YES\n"])
def test_any_other_answer_cancels(workspace: Workspace, answer: str) -> None:
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--prune", input=answer)

    assert result.exit_code == 1
    assert "Apply cancelled: nothing was written." in result.stderr
    assert workspace.writes() == []


def test_without_a_terminal_apply_needs_auto_approve(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--prune", input="yes\n")

    assert result.exit_code == 1
    assert "no terminal to ask for approval" in result.stderr
    assert "--auto-approve" in result.stderr
    assert workspace.writes() == []


def test_json_output_needs_auto_approve(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND)

    result = workspace.apply("--format", "json")

    assert result.exit_code == 1
    assert "--format json shows no plan to approve" in result.stderr
    assert workspace.writes() == []


# -- machine-readable result, and the key ------------------------------------------------------


def test_json_result_lists_every_entry_in_plan_order(workspace: Workspace) -> None:
    workspace.write_models(*PARTIAL)
    workspace.server.inject(Fault("status", method="POST", status=500))

    result = workspace.apply("--auto-approve", "--format", "json")

    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert {k: v for k, v in document.items() if k != "entries"} == {
        "format_version": "1",
        "registry": workspace.server.url,
        "outcome": "incomplete",
        "already_applied": False,
        "summary": {
            "created": 0,
            "updated": 1,
            "replaced": 0,
            "deleted": 0,
            "failed": 1,
            "skipped": 1,
        },
        "confirmed": True,
        "unconfirmed_reason": None,
        "health": None,
    }
    assert [(e["id"], e["action"], e["outcome"], e["status"]) for e in document["entries"]] == [
        (CHAT, "update", "done", None),
        (NEW_A, "create", "skipped", None),
        (NEW_B, "create", "failed", 500),
    ]
    assert document["entries"][2]["detail"].endswith("returned 500: Internal Server Error")


def test_json_result_without_changes(workspace: Workspace) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER])

    result = workspace.apply("--auto-approve", "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["outcome"] == "no-changes"
    assert document["entries"] == []


def test_the_api_key_appears_in_no_output(workspace: Workspace) -> None:
    echoing = json.dumps({"error": {"message": f"rejected header Authorization: Bearer {KEY}"}})
    outputs: list[str] = []
    workspace.write_models(*PARTIAL)
    for args in (["--format", "json"], []):
        workspace.server.inject(Fault("status", method="POST", status=500, body=echoing))
        workspace.server.inject(Fault("status", method="PATCH", status=500, body=echoing))
        result = workspace.apply("--auto-approve", *args)
        assert result.exit_code == 1, result.output
        outputs.append(result.output)
    assert "rejected header Authorization: Bearer ***" in outputs[0]
    workspace.write_models(definition(EMBED, apiFormat="embeddings"), LIVE[CHAT], LIVE[ROUTER])
    workspace.server.inject(Fault("status", method="POST", status=500, body=echoing))
    replaced = workspace.apply("--replace", EMBED, "--auto-approve")
    assert "WAS DELETED" in replaced.output
    outputs.append(replaced.output)
    outputs.append(
        workspace.run(
            "apply", "--api-url", "http://127.0.0.1:9", "--retry-budget", "0", "--auto-approve"
        ).output
    )

    for output in outputs:
        assert KEY not in output


# -- tampered saved plans ------------------------------------------------------------------


def _resummarise(document: dict[str, Any]) -> None:
    """Make the summary match the edited actions, as a careful tamperer would."""
    for action in ("create", "update", "replace", "delete", "no-op", "read-only", "unmanaged"):
        document["summary"][action] = sum(a["action"] == action for a in document["actions"])


def _update_the_immutable_entry(document: dict[str, Any], workspace: Workspace) -> None:
    with RegistryClient(workspace.server.url, KEY, api="registry") as client:
        fingerprint = {entry.id: entry.fingerprint() for entry in client.list_models()}[SYSTEM]
    for action in document["actions"]:
        if action["id"] == SYSTEM:
            action.update(
                action="update",
                patch={"contextWindow": 1},
                live_fingerprint=fingerprint,
                changes=[
                    {
                        "path": "contextWindow",
                        "kind": "changed",
                        "before": 128000,
                        "after": 1,
                        "forces_replace": False,
                    }
                ],
            )
    _resummarise(document)


def _slip_a_base_url_into_a_patch(document: dict[str, Any], workspace: Workspace) -> None:
    for action in document["actions"]:
        if action["id"] == CHAT:
            action["patch"]["baseUrl"] = "https://attacker.example.com/v1"


def _slip_a_field_into_a_replace_body(document: dict[str, Any], workspace: Workspace) -> None:
    for action in document["actions"]:
        if action["id"] == EMBED:  # a replace; an update with a null, once PATCH removes
            (action["body"] or action["patch"])["contextWindow"] = 1


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            _update_the_immutable_entry,
            f"{SYSTEM}: immutable on the server, and the plan would update it; "
            "no plan can write it",
        ),
        (
            _slip_a_base_url_into_a_patch,
            f"{CHAT}: what apply would send changes baseUrl, contextWindow, but the plan "
            "shows contextWindow",
        ),
        (
            _slip_a_field_into_a_replace_body,
            f"{EMBED}: what apply would send changes contextWindow, embeddingLimits, but "
            "the plan shows embeddingLimits",
        ),
    ],
    ids=["immutable", "patch", "body"],
)
def test_a_tampered_saved_plan_is_refused_whole_and_nothing_is_written(
    workspace: Workspace, tamper: Any, reason: str
) -> None:
    workspace.write_models(*EVERY_KIND, LIVE[SYSTEM])
    planned = workspace.plan("--prune", "--replace", EMBED, "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    saved = workspace.root / "plan.json"
    document = json.loads(saved.read_text("utf-8"))
    tamper(document, workspace)
    saved.write_text(json.dumps(document), "utf-8")
    before = workspace.definitions()
    workspace.server.clear_requests()

    result = workspace.apply("plan.json", "--auto-approve")

    assert result.exit_code == 1, result.output
    assert "error: apply refused; nothing was written:" in result.stderr
    assert f"  {reason}\n" in result.stderr
    assert "it was edited or damaged since it was made" in result.stderr
    assert "attacker" not in result.stderr
    assert workspace.writes() == []
    assert workspace.definitions() == before


def test_an_untouched_saved_plan_passes_the_check(workspace: Workspace) -> None:
    workspace.write_models(*EVERY_KIND, LIVE[SYSTEM])
    assert workspace.plan("--prune", "--out", "plan.json").exit_code == 0
    result = workspace.apply("plan.json", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert_every_kind_converged(workspace)


def _start_apply(workspace: Workspace, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "registry_sync", "apply", "--auto-approve", *extra],
        cwd=workspace.root,
        env={**os.environ, "MKA1_API_KEY": KEY, "MKA1_API_URL": workspace.server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Any, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while not condition() and process.poll() is None:
        assert time.monotonic() < deadline, "apply never got there"
        time.sleep(0.01)


def test_a_second_ctrl_c_with_writes_in_flight_still_reports_and_exits_3(
    workspace: Workspace,
) -> None:
    workspace.write_models(
        LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], *(definition(f"team:m{n}") for n in range(3))
    )
    workspace.server.latency = 1.5  # both signals land while the first POST is in flight
    process = _start_apply(workspace, "--parallelism", "1", "--out", "result.json")
    _wait_for(lambda: workspace.server.requests("POST"), process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 3, stdout + stderr
    assert "Aborted." not in stderr
    assert (
        "  + team:m0: FAILED (create): interrupted again while its request was in flight: it may "
        "or may not have landed; run `registry-sync plan` to see"
    ) in stdout
    assert "  + team:m2: skipped (create): not started: apply was interrupted" in stdout
    assert (
        "Apply interrupted: 0 created, 0 updated, 0 replaced, 0 deleted; 1 failed, 2 skipped"
        in (stdout)
    )
    saved = json.loads((workspace.root / "result.json").read_text("utf-8"))
    assert saved["outcome"] == "interrupted"
    assert [entry["outcome"] for entry in saved["entries"]] == ["failed", "skipped", "skipped"]


def test_a_ctrl_c_during_the_final_check_still_reports_and_exits_3(
    workspace: Workspace,
) -> None:
    workspace.write_models(LIVE[CHAT], LIVE[EMBED], LIVE[ROUTER], definition("team:m0"))
    workspace.server.latency = 1.0  # the signal lands while the final read is in flight
    process = _start_apply(workspace, "--out", "result.json")

    def checking() -> bool:
        methods = [request.method for request in workspace.server.requests()]
        return "POST" in methods and "GET" in methods[methods.index("POST") :]

    _wait_for(checking, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 3, stdout + stderr
    assert "team:m0: created" in stdout
    assert "interrupted (Ctrl-C) before the registry was read again" in stdout
    saved = json.loads((workspace.root / "result.json").read_text("utf-8"))
    assert saved["confirmed"] is False
