"""`registry-sync plan` end to end: the CLI against the local registry over real HTTP."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from paths import EXAMPLE_REGISTRY, ROOT

from registry_sync.cli import cli
from registry_sync.testing import Fault, RegistryServer

EXAMPLE_MODELS = ROOT / "models"
KEY = "test-key-7f3a9c"
# The registry generation's list path: a fault there lets the probe through (404).
LIST = "/api/v1/llm/models/registry"
EXAMPLE_SECRET = "sk-example-not-a-real-key-0000000000"


@pytest.fixture
def example_server() -> Iterator[RegistryServer]:
    """The bundled example registry, served over HTTP."""
    with RegistryServer(seed=EXAMPLE_REGISTRY, api_key=KEY) as server:
        yield server


def run(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {"MKA1_API_KEY": KEY, "NO_COLOR": None}
    environment.update(env or {})
    return CliRunner().invoke(cli, args, env=environment)


def plan_args(server: RegistryServer, *extra: str) -> list[str]:
    return [
        "plan",
        "--models-dir",
        str(EXAMPLE_MODELS),
        "--api-url",
        server.url,
        "--retry-budget",
        "0",
        *extra,
    ]


def test_plan_shows_every_action_kind(example_server: RegistryServer) -> None:
    result = run(plan_args(example_server))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "+ meetkai:vision-chat-v1 will be created" in text
    assert "~ meetkai:assistant-chat-v2 will be updated in place" in text
    assert "~ contextWindow: 64000 -> 128000" in text
    assert "~ meetkai:text-embed-v1 will be updated in place" in text
    assert "- rpm: 2000 -> (removed)" in text
    assert re.search(r"\+ created += \(set at apply\)", text)
    assert re.search(r"\+ capabilities.modalities.input += \[\"text\", \"image\"\]", text)
    assert "? meetkai:legacy-chat-v0" in text
    assert (
        "Plan: 1 to create, 2 to update, 0 to replace, 0 to delete. "
        "0 read-only conflicts, 1 unmanaged." in text
    )
    assert (
        "Not listed: 1 in sync, 1 read-only in sync, 2 immutable server entries not declared."
        in text
    )
    assert "\x1b[" not in text


def test_plan_never_writes(example_server: RegistryServer) -> None:
    run(plan_args(example_server, "--prune"))
    assert {r.method for r in example_server.requests()} == {"GET"}


def test_prune_plans_delete_and_counts_it(example_server: RegistryServer) -> None:
    result = run(plan_args(example_server, "--prune"))
    assert result.exit_code == 0
    assert "- meetkai:legacy-chat-v0 will be deleted" in result.stdout
    assert "1 to delete" in result.stdout


def test_live_secret_prints_as_sensitive(example_server: RegistryServer) -> None:
    for fmt in ("text", "json"):
        result = run(plan_args(example_server, "--format", fmt))
        assert EXAMPLE_SECRET not in result.output
        assert "(sensitive)" in result.stdout


def test_api_key_appears_nowhere(example_server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    results = [
        run(plan_args(example_server, "--format", fmt, "--out", str(out)))
        for fmt in ("text", "json")
    ]
    args = plan_args(example_server)
    example_server.inject(Fault("status", status=500, body=f"echo {KEY}", times=99))
    results.append(run(args))
    example_server.stop()
    results.append(run(args))
    for result in results:
        assert KEY not in result.output
    assert KEY not in out.read_text()


def test_request_carries_bearer_key_and_on_behalf_of(example_server: RegistryServer) -> None:
    run(plan_args(example_server, "--on-behalf-of", "user-42"))
    # The probe for the API generation, then the list: every request carries both.
    requests = example_server.requests()
    assert [request.path for request in requests] == [
        "/api/v1/llm/models/catalog",
        "/api/v1/llm/models/registry",
    ]
    for request in requests:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.headers["x-on-behalf-of"] == "user-42"


def test_api_url_and_on_behalf_of_from_environment(example_server: RegistryServer) -> None:
    args = ["plan", "--models-dir", str(EXAMPLE_MODELS)]
    result = run(args, {"MKA1_API_URL": example_server.url, "MKA1_ON_BEHALF_OF": "user-7"})
    assert result.exit_code == 0, result.stderr
    assert example_server.requests()[0].headers["x-on-behalf-of"] == "user-7"


@pytest.mark.parametrize(
    ("extra", "code"),
    [((), 2), (("--prune",), 2)],
)
def test_detailed_exitcode_reports_changes(
    example_server: RegistryServer, extra: tuple[str, ...], code: int
) -> None:
    assert run(plan_args(example_server, "--detailed-exitcode", *extra)).exit_code == code


def test_detailed_exitcode_zero_when_in_sync(tmp_path: Path) -> None:
    seed = json.loads(EXAMPLE_REGISTRY.read_text())
    vision = yaml.safe_load((EXAMPLE_MODELS / "vision" / "vision-chat.yml").read_text())
    seed["data"].append(
        {**seed["data"][0], "id": vision["id"], "definition": {**vision, "created": 1}}
    )
    for entry in seed["data"]:
        definition = entry["definition"]
        definition.pop("rpm", None) if entry["id"] == "meetkai:text-embed-v1" else None
        if entry["id"] == "meetkai:assistant-chat-v2":
            definition.update(contextWindow=128000, defaultParams={"temperature": 0.7, "topP": 1})
            definition["auth"].pop("value")
    with RegistryServer(seed=seed, api_key=KEY) as server:
        args = ["plan", "--api-url", server.url, "--detailed-exitcode"]
        args += ["--models-dir", str(EXAMPLE_MODELS)]
        result = run(args)
    assert result.exit_code == 0, result.output
    assert "No changes. The registry matches" in result.stdout
    assert "1 unmanaged." in result.stdout


def test_read_only_conflict_exits_1_and_is_shown(
    example_server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(EXAMPLE_MODELS, models)
    path = models / "chat" / "fallbacks.yaml"
    path.write_text(path.read_text().replace("contextWindow: 1000000", "contextWindow: 2000000"))
    for extra in ((), ("--detailed-exitcode",)):
        args = ["plan", "--models-dir", str(models), "--api-url", example_server.url, *extra]
        result = run(args)
        assert result.exit_code == 1
        assert (
            "! meetkai:long-context-chat-v1 is read-only on the server: CONFLICT" in result.stdout
        )
        assert "~ contextWindow: 1000000 -> 2000000" in result.stdout
        assert "1 read-only conflict," in result.stdout
        assert (
            "error: 1 read-only conflict (meetkai:long-context-chat-v1): the server defines "
            f"this entry itself and no write can change it; make {models}/ match the registry, "
            "or remove the file"
        ) in result.stderr
    assert {r.method for r in example_server.requests()} == {"GET"}


def test_json_output_and_out_file_are_the_same_document(
    example_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = run(plan_args(example_server, "--format", "json", "--out", str(out)))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document == json.loads(out.read_text())
    assert document["format_version"] == "2"
    assert document["registry"] == example_server.url
    assert document["summary"]["create"] == 1
    by_id = {action["id"]: action for action in document["actions"]}
    assert by_id["meetkai:assistant-chat-v2"]["patch"]["contextWindow"] == 128000
    embed = by_id["meetkai:text-embed-v1"]
    assert (embed["action"], embed["patch"], embed["body"]) == ("update", {"rpm": None}, None)
    assert embed["changes"] == [{"path": "rpm", "kind": "removed", "before": 2000, "after": None}]
    assert "created" not in by_id["meetkai:vision-chat-v1"]["body"]
    assert by_id["meetkai:long-context-chat-v1"]["action"] == "read-only"


def test_text_out_file_still_writes_json(example_server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run(plan_args(example_server, "--out", str(out)))
    assert result.stdout.startswith("registry-sync will perform")
    assert json.loads(out.read_text())["summary"]["update"] == 2


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        (["--color"], {}, True),
        (["--color"], {"NO_COLOR": "1"}, True),
        ([], {"NO_COLOR": "1"}, False),
        (["--no-color"], {}, False),
        ([], {}, False),  # not a terminal
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": ""}, False),  # set but empty: as if unset
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
        (["--no-color"], {"FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_only_when_wanted(
    example_server: RegistryServer, args: list[str], env: dict[str, str | None], coloured: bool
) -> None:
    result = run(plan_args(example_server, *args), env)
    assert ("\x1b[" in result.stdout) is coloured


# --- fail closed: a failed fetch is never "no changes" ---------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Fault("status", status=500, times=99, path_contains=LIST),
            "list registry models failed: GET /api/v1/llm/models/registry returned 500",
        ),
        (
            Fault("malformed", times=99, path_contains=LIST),
            "unexpected response from GET /api/v1/llm/models/registry",
        ),
        (
            Fault("malformed", body='{"object": "list", "data": {}}', times=99, path_contains=LIST),
            "at data: expected a list",
        ),
        (
            Fault("malformed", body='{"data": []}', times=99, path_contains=LIST),
            "at object: expected 'list'",
        ),
        (
            Fault("drop", times=99, path_contains=LIST),
            "list registry models failed: GET /api/v1/llm/models/registry",
        ),
        # The probe that finds the generation fails as closed as the list.
        (
            Fault("status", status=500, times=99),
            "find which API the registry speaks failed: GET /api/v1/llm/models/catalog "
            "returned 500",
        ),
        (Fault("malformed", times=99), "unexpected response from GET /api/v1/llm/models/catalog"),
    ],
)
def test_failed_fetch_exits_1_and_says_why(
    example_server: RegistryServer, fault: Fault, message: str
) -> None:
    example_server.inject(fault)
    for extra in ((), ("--detailed-exitcode",)):
        result = run(plan_args(example_server, *extra))
        assert result.exit_code == 1
        assert message in result.stderr
        assert "No changes" not in result.output
        assert result.stdout == ""


def test_transient_failure_is_retried(example_server: RegistryServer) -> None:
    example_server.inject(Fault("rate-limit", retry_after="0", times=1))
    args = ["plan", "--models-dir", str(EXAMPLE_MODELS), "--api-url", example_server.url]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    # The probe (429, then its retry: 404, the registry generation), then the list.
    assert len(example_server.requests()) == 3


def test_wrong_key_is_an_error_naming_the_status(example_server: RegistryServer) -> None:
    result = run(plan_args(example_server), {"MKA1_API_KEY": "wrong-key-123"})
    assert result.exit_code == 1
    assert "returned 401" in result.stderr
    assert "wrong-key-123" not in result.output


def test_missing_key_says_what_to_do(example_server: RegistryServer) -> None:
    result = run(plan_args(example_server), {"MKA1_API_KEY": None})
    assert result.exit_code == 1
    assert "error: MKA1_API_KEY is not set" in result.stderr
    assert example_server.requests() == []


def test_unreachable_registry_fails_closed(example_server: RegistryServer) -> None:
    url = example_server.url
    example_server.stop()
    args = ["plan", "--models-dir", str(EXAMPLE_MODELS), "--api-url", url, "--retry-budget", "0"]
    result = run([*args, "--api", "registry"])
    assert result.exit_code == 1
    assert "list registry models failed: GET /api/v1/llm/models/registry" in result.stderr
    # Unpinned, the probe is what cannot connect: an error too, never a guess.
    probed = run(args)
    assert probed.exit_code == 1
    assert "find which API the registry speaks failed: GET /api/v1/llm/models/catalog" in (
        probed.stderr
    )


# --- offline: --registry-file ---------------------------------------------------------


def test_registry_file_plans_offline() -> None:
    args = ["plan", "--models-dir", str(EXAMPLE_MODELS), "--registry-file", str(EXAMPLE_REGISTRY)]
    result = run(args, {"MKA1_API_KEY": None})
    assert result.exit_code == 0, result.stderr
    assert (
        f"Plan against the snapshot {EXAMPLE_REGISTRY} (offline; cannot be applied) (registry API):"
        in (result.stdout)
    )
    assert "1 to create, 2 to update, 0 to replace" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object, got a list"),
        ('{"object": "list", "data": [{"id": "a:b"}]}', "at data[0].immutable: expected a boolean"),
        (
            '{"object": "list", "data": [{"id": "a:b", "immutable": false, "source": "database"}]}',
            "at data[0].definition: expected a JSON object, got null",
        ),
    ],
)
def test_bad_registry_file_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "registry.json"
    path.write_text(content)
    result = run(["plan", "--models-dir", str(EXAMPLE_MODELS), "--registry-file", str(path)])
    assert result.exit_code == 1
    assert message in result.stderr
    assert str(path) in result.stderr


def test_missing_registry_file(tmp_path: Path) -> None:
    result = run(["plan", "--registry-file", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


# --- models/ problems stop the plan ----------------------------------------------------


def test_invalid_models_stop_the_plan_before_any_request(
    example_server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "bad.yaml").write_text("id: a:b\nprovider: x\n")
    result = run(["plan", "--models-dir", str(models), "--api-url", example_server.url])
    assert result.exit_code == 1
    assert "bad.yaml:1" in result.stderr
    assert "error: models are invalid" in result.stderr
    assert example_server.requests() == []


def write_model(folder: Path, name: str, model_id: str, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"id: {model_id}\nprovider: openai-compatible\nmodelId: m\napiFormat: responses\n"
        "apiProviderType: openai\n"
        "auth:\n  type: none\ncapabilities:\n  modalities: {input: [text], output: [text]}\n"
        f"  reasoning: false\n{extra}"
    )


def test_reroute_target_must_exist_in_models_or_registry(
    example_server: RegistryServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    reroute = "rerouteRules:\n  - trigger: {type: error-fallback}\n    targetModelId: TARGET\n"
    write_model(models, "a.yaml", "team:a", reroute.replace("TARGET", "meetkai:legacy-chat-v0"))
    write_model(models, "b.yaml", "team:b", reroute.replace("TARGET", "team:a"))
    write_model(models, "c.yaml", "team:c", reroute.replace("TARGET", "team:nowhere"))
    args = ["plan", "--models-dir", str(models), "--api-url", example_server.url]
    result = run(args)
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if "targetModelId" in line]
    assert len(problems) == 1
    assert "c.yaml:13: rerouteRules[0].targetModelId:" in problems[0]
    assert "team:nowhere" in problems[0]
    # With --prune the unmanaged target would be deleted: the reference would dangle,
    # which the policy refuses (the plan itself is shown).
    (models / "c.yaml").unlink()
    pruned = run([*args, "--prune"])
    assert pruned.exit_code == 1
    assert (
        "error: reroute-target-deleted: meetkai:legacy-chat-v0 is deleted by the plan, but "
        "team:a still reroutes to it (rerouteRules[0], error-fallback)"
    ) in pruned.stderr
    assert "x reroute-target-deleted: meetkai:legacy-chat-v0 is deleted" in pruned.stdout


# --- usage errors never look like drift ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--no-such-flag"],
        ["plan", "--format", "yaml"],
        ["no-such-command"],
        ["plan", "--detailed-exitcode", "--retry-budget", "-1"],
    ],
)
def test_usage_errors_exit_1_not_2(args: list[str]) -> None:
    result = run(args)
    assert result.exit_code == 1
    assert "\nerror: " in result.stderr
    assert "Error:" not in result.stderr


def test_usage_errors_start_with_error_and_keep_the_usage_hint() -> None:
    result = run(["plan", "--no-such-flag"])
    assert result.stderr == (
        "Usage: cli plan [OPTIONS]\n"
        "Try 'cli plan --help' for help.\n"
        "\n"
        "error: No such option '--no-such-flag'.\n"
    )


def test_no_command_still_shows_the_help() -> None:
    result = run([])
    assert result.exit_code == 1
    assert result.stderr.startswith("Usage: cli [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stderr


def test_api_key_is_not_a_flag() -> None:
    result = run(["plan", "--api-key", "x"])
    assert result.exit_code == 1
    assert "No such option '--api-key'" in result.stderr


def test_help_explains_exit_codes() -> None:
    result = run(["plan", "--help"])
    assert result.exit_code == 0
    assert "--detailed-exitcode" in result.stdout
    assert "2 changes present" in result.stdout
    assert "MKA1_API_KEY" in result.stdout


def test_out_file_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    args = ["plan", "--models-dir", str(EXAMPLE_MODELS), "--registry-file", str(EXAMPLE_REGISTRY)]
    result = run([*args, "--out", str(tmp_path / "missing-dir" / "plan.json")])
    assert result.exit_code == 1
    assert f"error: writing {tmp_path / 'missing-dir' / 'plan.json'} failed:" in result.stderr


def test_registry_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(b'{"object": "list", "data": [], "x": "\xff"}')
    result = run(["plan", "--models-dir", str(EXAMPLE_MODELS), "--registry-file", str(path)])
    assert result.exit_code == 1
    assert f"error: cannot read registry file {path}" in result.stderr
