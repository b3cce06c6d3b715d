"""`registry-sync export` end to end: the CLI against the local registry over real HTTP.

The round trip is the promise: export, then plan against the same registry, reports
no changes, for every definition shape in the API reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from paths import EXAMPLE_REGISTRY

from registry_sync.cli import cli
from registry_sync.desired.loader import load_models
from registry_sync.export.files import PLACEHOLDER_ENV_VAR, READ_ONLY_DIR
from registry_sync.testing import (
    Fault,
    RegistryServer,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "test-key-export-51c2"
SECRET = "sk-live-export-0123456789abcdefSECRET"
CREATED = 1_719_792_000


def caps(inputs: list[str], outputs: list[str], **extra: Any) -> dict[str, Any]:
    return {"modalities": {"input": inputs, "output": outputs}, "reasoning": False, **extra}


def base(entry_id: str, **fields: Any) -> dict[str, Any]:
    """A definition with only the fields the add endpoint requires, plus ``fields``."""
    required = {"modelId": entry_id.rpartition(":")[2], "created": CREATED}
    return minimal_definition(entry_id, **{**required, **fields})


# Every shape of the API reference, each optional field both absent and present.
SHAPES: list[dict[str, Any]] = [
    base("shapes:minimal"),
    base(
        "shapes:everything",
        provider="meetkai",
        modelId="everything-v1",
        displayName="Everything v1",
        baseUrl="https://llm.internal.example.com/v1",
        apiFormat="completions",
        apiProviderType="meetkai",
        auth={"type": "api-key", "envVar": "EVERYTHING_KEY", "headerName": "X-Api-Key"},
        capabilities={
            "modalities": {"input": ["text", "image", "audio", "video"], "output": ["text"]},
            "reasoning": True,
            "supportsTemperature": True,
            "supportsTopP": False,
            "supportedBase64Formats": ["png", "jpeg", "on"],
            "supportsCompletionVideoUrlMessage": True,
            "maxImageResolution": {"maxWidth": 4096, "maxHeight": 2048},
            "minImageResolution": {"maxWidth": 64, "maxHeight": 32},
        },
        contextWindow=2_000_000,
        rpm=600,
        rateLimits=[
            {"scope": "global", "rpm": 6000},
            {"scope": "org", "rpm": 600, "queue": {"maxDepth": 100, "maxWaitMs": 5000}},
            {"scope": "user", "rpm": 60, "duration": 60},
            {
                "scope": "apiKey",
                "rpm": 120,
                "duration": 30,
                "queue": {"maxDepth": 5, "maxWaitMs": 1},
            },
            {"scope": "externalUser", "rpm": 10},
        ],
        concurrency={"max": 64, "maxWaitMs": 0},
        requestTimeoutMs=60000,
        maxRetries=0,
        defaultParams={
            "temperature": 0.7,
            "topP": 1,
            "presencePenalty": -0.5,
            "frequencyPenalty": 0.30000000000000004,
        },
        rerouteRules=[
            {
                "trigger": {"type": "input-modality", "modality": "video"},
                "targetModelId": "shapes:health-url-form",
                "preserveParams": True,
                "log": False,
            },
            {"trigger": {"type": "base64-input"}, "targetModelId": "shapes:minimal", "log": True},
            {"trigger": {"type": "context-exceeded"}, "targetModelId": "shapes:composite"},
            {
                "trigger": {"type": "error-fallback"},
                "targetModelId": "read-only:system-chat",
                "preserveParams": False,
            },
        ],
        hidden=False,
        healthCheck={
            "mode": "preflight",
            "path": "/health",
            "method": "HEAD",
            "timeoutMs": 2000,
            "cacheTtlSeconds": 0,
        },
    ),
    base(
        "shapes:custom-headers",
        displayName="off",  # strings YAML would misread
        modelId="1.0",
        auth={
            "type": "custom-headers",
            "headers": {"X-Region": "eu-west-1", "X-Mode": "null", "X-Flag": "yes", "<<": "1e3"},
            "envVars": {"X-Gateway-Key": "GATEWAY_KEY"},
        },
        healthCheck={
            "mode": "periodic",
            "path": "/models",
            "intervalSeconds": 60,
            "method": "GET",
            "timeoutMs": 3000,
            "cacheTtlSeconds": 30,
        },
        hidden=True,
    ),
    base(
        "shapes:composite",
        displayName="Modèle composite ✓\nsecond line",
        auth={
            "type": "composite",
            "strategies": [
                {"type": "api-key", "envVar": "PRIMARY_KEY"},
                {"type": "custom-headers", "headers": {"X-Tenant": "acme"}},
                {"type": "none"},
                {"type": "composite", "strategies": [{"type": "api-key", "envVar": "NESTED"}]},
            ],
        },
        healthCheck={"mode": "off"},
    ),
    base(
        "shapes:health-url-form",
        apiFormat="images",
        healthCheck={"url": "https://status.example.com/ping?x=1", "method": "GET"},
        capabilities=caps(["text"], ["image"], supportedBase64Formats=["png"]),
    ),
    base(
        "shapes:health-minimal",
        apiFormat="realtime-v2",  # other apiFormat strings are allowed
        healthCheck={"mode": "periodic", "path": "/h", "intervalSeconds": 5},
        concurrency={"max": 1},
    ),
    base(
        "shapes:embed-int",
        apiFormat="embeddings",
        apiProviderType="openai",
        embeddingLimits={"maxBatchSize": 2048, "dimensions": 1536},
    ),
    base(
        "shapes:embed-range",
        apiFormat="embeddings",
        embeddingLimits={"dimensions": {"min": 256, "max": 3072, "default": 1024}},
    ),
    base("shapes:embed-empty", apiFormat="embeddings", embeddingLimits={}),
    base("shapes:tts", apiFormat="tts", capabilities=caps(["text"], ["audio"])),
    base("no-namespace-id", apiFormat="transcriptions", capabilities=caps(["audio"], ["text"])),
    base("shapes:case", displayName="upper"),
    base("shapes:CASE", displayName="lower"),  # the same file name on Windows and macOS
    base("shapes:slash/name"),
    base("shapes:slash_name"),  # the same file name once "/" is replaced
]
READ_ONLY = base("read-only:system-chat", provider="meetkai", apiProviderType="meetkai")


# Every entry passed its last health probe on 2025-01-01.
HEALTH = {"is_available": True, "last_health_check": 1735689600000, "error": None}


def document(*definitions: dict[str, Any], read_only: tuple[dict[str, Any], ...] = ()) -> Any:
    data = [
        registry_model(d, health=HEALTH, created_at=1704067200000, updated_at=1704153600000)
        for d in definitions
    ]
    data += [
        registry_model(d, immutable=True, health=HEALTH, created_at=None, updated_at=None)
        for d in read_only
    ]
    return list_response(data)


@pytest.fixture
def shapes_server() -> Iterator[RegistryServer]:
    with RegistryServer(seed=document(*SHAPES, read_only=(READ_ONLY,)), api_key=KEY) as server:
        yield server


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, env={"MKA1_API_KEY": KEY, "NO_COLOR": "1"})


def export(server: RegistryServer, out: Path, *extra: str) -> Result:
    return run(["export", "--api-url", server.url, "--out-dir", str(out), *extra])


def plan(server: RegistryServer, models: Path) -> Result:
    return run(
        ["plan", "--api-url", server.url, "--models-dir", str(models), "--detailed-exitcode"]
    )


def test_round_trip_of_every_shape_plans_no_changes(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    exported = export(shapes_server, out, "--include-read-only")
    assert exported.exit_code == 0, exported.stderr
    assert exported.stderr == ""
    assert f"Exported {len(SHAPES) + 1} models to {out.as_posix()}/ (1 read-only" in (
        exported.stdout
    )
    # The probe for the API generation, then the list: reads only.
    assert [request.method for request in shapes_server.requests()] == ["GET", "GET"]

    planned = plan(shapes_server, out)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    assert f"{len(SHAPES)} in sync, 1 read-only in sync" in planned.stdout

    validated = run(["validate", "--models-dir", str(out)])
    assert validated.exit_code == 0, validated.stderr
    assert f"{len(SHAPES) + 1} model definitions in {len(SHAPES) + 1} files: valid." in (
        validated.stdout
    )

    # Each file holds exactly the live definition: created kept, server fields gone.
    loaded = {d.id: d.body for d in load_models(out).definitions}
    assert loaded == {d["id"]: d for d in [*SHAPES, READ_ONLY]}


def test_files_are_where_the_ids_say_and_colliding_ids_both_kept(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    assert export(shapes_server, out, "--include-read-only").exit_code == 0
    files = sorted(path.relative_to(out).as_posix() for path in out.rglob("*.yaml"))
    assert f"{READ_ONLY_DIR}/read-only/system-chat.yaml" in files
    assert "no-namespace-id.yaml" in files
    assert "shapes/everything.yaml" in files
    assert "shapes/slash_name.yaml" in files  # the id that needed no replacement
    assert len([f for f in files if f.startswith("shapes/slash_name")]) == 2
    assert len([f for f in files if f.casefold().startswith("shapes/case")]) == 2
    assert len({f.casefold() for f in files}) == len(files) == len(SHAPES) + 1


def test_exported_file_reads_well(shapes_server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "models"
    assert export(shapes_server, out).exit_code == 0
    text = (out / "shapes/custom-headers.yaml").read_text(encoding="utf-8")
    assert text.startswith(
        "id: shapes:custom-headers\n"
        "provider: openai-compatible\n"
        "modelId: '1.0'\n"
        "displayName: 'off'\n"
        "apiFormat: responses\n"
        "apiProviderType: openai\n"
        f"created: {CREATED}\n"
        "auth:\n"
        "  type: custom-headers\n"
        "  headers:\n"
        "    X-Region: eu-west-1\n"
        "    X-Mode: 'null'\n"
        "    X-Flag: 'yes'\n"
        "    '<<': '1e3'\n"
        "  envVars:\n"
        "    X-Gateway-Key: GATEWAY_KEY\n"
    )
    assert "source" not in text and "immutable" not in text and "health:" not in text


def test_read_only_entries_only_with_the_flag(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    result = export(shapes_server, out)
    assert result.exit_code == 0, result.stderr
    assert "1 read-only entry not exported (--include-read-only exports them)." in result.stdout
    assert not (out / READ_ONLY_DIR).exists()
    planned = plan(shapes_server, out)
    assert planned.exit_code == 0, planned.stdout
    assert "1 immutable server entry not declared" in planned.stdout


def test_read_only_file_that_drifts_is_a_conflict_in_plan(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    assert export(shapes_server, out, "--id", READ_ONLY["id"], "--include-read-only").exit_code == 0
    path = out / READ_ONLY_DIR / "read-only/system-chat.yaml"
    assert path.read_text(encoding="utf-8").startswith("# Read-only:")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nprovider: meetkai\n", "\nprovider: other\n"))
    planned = plan(shapes_server, out)
    assert planned.exit_code == 1
    assert "read-only:system-chat is read-only on the server: CONFLICT" in planned.stdout


def test_only_the_ids_asked_for(shapes_server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = export(shapes_server, out, "--id", "shapes:tts", "--id", "no-namespace-id")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        f"wrote {(out / 'no-namespace-id.yaml').as_posix()}",
        f"wrote {(out / 'shapes/tts.yaml').as_posix()}",
    ]
    assert sorted(p.name for p in out.rglob("*.yaml")) == ["no-namespace-id.yaml", "tts.yaml"]


def test_an_unknown_id_is_an_error_naming_it(shapes_server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = export(shapes_server, out, "--id", "shapes:tts", "--id", "shapes:ttx")
    assert result.exit_code == 1
    assert "error: export failed: no registry entry 'shapes:ttx'" in result.stderr
    assert "did you mean 'shapes:tts'?" in result.stderr
    assert not out.exists()


def test_existing_files_are_kept_unless_forced(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"
    (out / "shapes").mkdir(parents=True)
    (out / "shapes/tts.yaml").write_text("# mine\n", encoding="utf-8")
    refused = export(shapes_server, out)
    assert refused.exit_code == 1
    assert "tts.yaml already exists; nothing was written" in refused.stderr
    assert "--force" in refused.stderr
    assert [p.name for p in out.rglob("*.yaml")] == ["tts.yaml"]
    assert (out / "shapes/tts.yaml").read_text(encoding="utf-8") == "# mine\n"

    forced = export(shapes_server, out, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (out / "shapes/tts.yaml").read_text(encoding="utf-8").startswith("id: shapes:tts\n")
    assert plan(shapes_server, out).exit_code == 0


SECRETS = [
    base("secret:api-key", auth={"type": "api-key", "value": SECRET}),
    base(
        "secret:both",
        auth={"type": "api-key", "envVar": "BOTH_KEY", "value": SECRET},
        baseUrl=f"https://admin:{SECRET}@llm.example.com/v1",
    ),
    base(
        "secret:headers",
        auth={
            "type": "composite",
            "strategies": [
                {"type": "custom-headers", "headers": {"Authorization": f"Bearer {SECRET}"}},
                {"type": "api-key", "value": SECRET},
            ],
        },
    ),
]


def test_live_secrets_are_never_written_or_printed(tmp_path: Path) -> None:
    out = tmp_path / "models"
    with RegistryServer(seed=document(*SECRETS), api_key=KEY) as server:
        result = export(server, out)
        planned = plan(server, out)
    assert result.exit_code == 0, result.stderr
    for field, entry_id in [
        ("auth.value", "secret:api-key"),
        ("auth.value", "secret:both"),
        ("baseUrl", "secret:both"),
        ("auth.strategies[0].headers.Authorization", "secret:headers"),
        ("auth.strategies[1].value", "secret:headers"),
    ]:
        assert f"warning: {entry_id}: {field} holds a secret; not written to" in result.stderr
    texts = [path.read_text(encoding="utf-8") for path in out.rglob("*.yaml")]
    assert len(texts) == 3
    for text in [*texts, result.stdout, result.stderr, planned.stdout, planned.stderr]:
        assert SECRET not in text
        assert "admin" not in text
    api_key = (out / "secret/api-key.yaml").read_text(encoding="utf-8")
    assert f"  envVar: {PLACEHOLDER_ENV_VAR}  # TODO" in api_key
    # The warning names the folder written and the commands that refuse it.
    assert (
        f"exported files in {out.as_posix()}/ will not load until fixed (a "
        "placeholder to replace, or what the registry holds and this version of "
        f"registry-sync does not accept): 'registry-sync validate --models-dir {out.as_posix()}' "
        f"lists the problems, and plan and apply with --models-dir {out.as_posix()} refuse "
        "to run while they remain\n"
    ) in result.stderr
    # The placeholder must be replaced before anything can be planned, let alone applied.
    assert planned.exit_code == 1
    assert (
        f"secret/api-key.yaml:12: auth.envVar: {PLACEHOLDER_ENV_VAR} is the placeholder "
        "export wrote for a secret" in planned.stderr
    )


def test_a_field_from_a_newer_server_is_left_out_flagged_and_round_trips(tmp_path: Path) -> None:
    newer = base("newer:model", contextWindow=8192, futureField={"b": 1, "a": [1, 2]})
    out = tmp_path / "models"
    with RegistryServer(seed=document(newer), api_key=KEY) as server:
        result = export(server, out)
        assert result.exit_code == 0, result.stderr
        text = (out / "newer/model.yaml").read_text(encoding="utf-8")
        # Its value is exported for the record, as a comment: never a declaration.
        assert text.startswith(
            "# Left out, unknown to this version of registry-sync (the registry keeps them): "
            'futureField\n#   futureField: {"a": [1, 2], "b": 1}\nid: newer:model\n'
        )
        assert "\nfutureField:" not in text
        assert (
            "warning: newer:model: futureField left out of "
            f"{(out / 'newer/model.yaml').as_posix()}: unknown to this version"
        ) in result.stderr
        assert "will not load until fixed" not in result.stderr
        # plan does not compare what it does not know: the round trip still holds.
        planned = CliRunner().invoke(
            cli,
            ["plan", "--models-dir", str(out), "--api-url", server.url, "--detailed-exitcode"],
            env={"MKA1_API_KEY": KEY},
        )
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert (
        "Not compared: live field this version of registry-sync does not know: futureField."
        in planned.stdout
    )


def test_nothing_to_export(tmp_path: Path) -> None:
    out = tmp_path / "models"
    with RegistryServer(seed=document(read_only=(READ_ONLY,)), api_key=KEY) as server:
        result = export(server, out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Nothing to export: the registry has no mutable entries. "
        "1 read-only entry not exported (--include-read-only exports them).\n"
    )
    assert not out.exists()


def test_a_bad_answer_fails_closed_and_writes_nothing(
    shapes_server: RegistryServer, tmp_path: Path
) -> None:
    shapes_server.inject(Fault("malformed", body='{"object": "list"}', path_contains="/registry"))
    out = tmp_path / "models"
    result = export(shapes_server, out, "--retry-budget", "0", "--api", "registry")
    assert result.exit_code == 1
    assert "error: unexpected response from GET /api/v1/llm/models/registry" in result.stderr
    assert not out.exists()


def test_export_from_a_saved_registry_file(tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = run(["export", "--registry-file", str(EXAMPLE_REGISTRY), "--out-dir", str(out)])
    assert result.exit_code == 0, result.stderr
    assert (out / "meetkai/fast-chat-v1.yaml").exists()


def test_the_files_written_are_read_back_within_the_configured_bound(tmp_path: Path) -> None:
    config = tmp_path / "registry-sync.yaml"
    args = ["export", "--registry-file", str(EXAMPLE_REGISTRY), "--config", str(config)]
    config.write_text("limits:\n  total_nodes: 30\n")
    small = run([*args, "--out-dir", str(tmp_path / "small")])
    assert small.exit_code == 0, small.stderr
    assert "the bound on one run" in small.stderr
    assert "raise limits.total_nodes in registry-sync.yaml" in small.stderr
    config.write_text("limits:\n  total_nodes: 3000\n")
    raised = run([*args, "--out-dir", str(tmp_path / "raised")])
    assert raised.exit_code == 0, raised.stderr
    assert "the bound on one run" not in raised.stderr
    assert "will not load" not in raised.stderr


def test_missing_key_says_what_to_do(shapes_server: RegistryServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["export", "--api-url", shapes_server.url, "--out-dir", str(tmp_path / "m")],
        env={"MKA1_API_KEY": None},
    )
    assert result.exit_code == 1
    assert "error: MKA1_API_KEY is not set" in result.stderr


def test_export_takes_its_folder_and_registry_from_the_project_config(tmp_path: Path) -> None:
    model = base("team:chat")
    with RegistryServer(seed=document(model), api_key=KEY) as server:
        config = tmp_path / "registry-sync.yaml"
        config.write_text(f"models_dir: team-models\napi_url: {server.url}\n")
        result = run(["export", "--config", str(config)])
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / "team-models" / "team" / "chat.yaml").is_file()
        # A flag still wins over the file.
        flagged = run(["export", "--config", str(config), "--out-dir", str(tmp_path / "other")])
        assert flagged.exit_code == 0, flagged.stderr
        assert (tmp_path / "other" / "team" / "chat.yaml").is_file()


# -- strings YAML would change (issue 23, item 7) ----------------------------------------------

ODD_TEXT = {
    "displayName": "Text Embed\x85v1",  # NEL: a line break to YAML, folded into a space
    "modelId": "line\u2028para\u2029end\rcr\ttab",
    "provider": "\ufeffbom \x7f del \x1b esc",
}


def test_an_export_of_a_value_holding_u0085_plans_empty(tmp_path: Path) -> None:
    out = tmp_path / "models"
    with RegistryServer(seed=document(base("odd:text", **ODD_TEXT)), api_key=KEY) as server:
        exported = export(server, out)
        assert exported.exit_code == 0, exported.output
        text = (out / "odd/text.yaml").read_text(encoding="utf-8")
        planned = plan(server, out)
    assert 'displayName: "Text Embed\\Nv1"\n' in text
    assert 'modelId: "line\\Lpara\\Pend\\rcr\\ttab"\n' in text
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert load_models(out).definitions[0].body["displayName"] == "Text Embed\x85v1"


def test_a_lone_surrogate_is_refused_naming_the_entry_and_field(tmp_path: Path) -> None:
    out = tmp_path / "models"
    entries = document(base("odd:half", displayName="half \ud83d pair"), base("odd:fine"))
    with RegistryServer(seed=entries, api_key=KEY) as server:
        result = export(server, out)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: export failed: 'odd:half': displayName holds a lone surrogate (half of a "
        "UTF-16 pair), which no UTF-8 file can hold; nothing was written. Fix the value in "
        "the registry, or export the other entries by --id\n"
    )
    assert not out.exists()
