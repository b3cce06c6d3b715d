"""Secrets by shape and by schema, end to end: five live shapes the name heuristics
missed and seven vendor keys pasted into files appear in no output of validate, plan
(every format), apply (and its dry run) or export, through the local server; names of
environment variables and counts that merely read like credentials pass and survive."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from leaky_registry import FRIENDLY_AUTH, LIVE_SECRETS, declared, live_definitions

from registry_sync.cli import cli
from registry_sync.schema.secrets import PLACEHOLDER_ENV_VAR, PLACEHOLDER_SECRET, SENSITIVE
from registry_sync.testing import (
    Fault,
    RegistryServer,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-secret-shapes-test-5e0b"

# Seven vendor keys pasted into files, three of them where a variable *name* belongs
# and reading like one (letters, digits and '_').
FILE_KEYS = {
    "openai": ("envVar", "sk-proj-Zq4vB7nL2xR9tK1mW8pY3sD6fH0jG5cA"),
    "stripe": ("envVar", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    "github": ("envVar", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXY"),
    "aws": ("envVar", "AKIAIOSFODNN7EXAMPLE"),
    "anthropic": ("displayName", "sk-ant-api03-Zq4vB7nL2xR9tK1mW8pY3sD6fH0jG5cAe1"),
    "google": ("envVars", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    "slack": ("headers", "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    seed = list_response(registry_model(body) for body in live_definitions())
    with RegistryServer(seed=seed, api_key=KEY) as running:
        yield running


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project") / "models"
    folder.mkdir()
    for model_id, body in declared().items():
        (folder / f"{model_id.split(':')[1]}.yaml").write_text(yaml.safe_dump(body), "utf-8")
    return folder


def run(*args: str, url: str | None = None) -> Result:
    env = {"MKA1_API_KEY": KEY, "NO_COLOR": "1"}
    if url is not None:
        env["MKA1_API_URL"] = url
    return CliRunner().invoke(cli, list(args), env=env)


def assert_no_leak(*texts: str, secrets: tuple[str, ...] = LIVE_SECRETS) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_plan_hides_every_live_shape(
    server: RegistryServer, models: Path, output_format: str
) -> None:
    result = run(
        "plan", "--models-dir", str(models), "--prune", "--format", output_format, url=server.url
    )
    assert result.exit_code == 0, result.output
    assert SENSITIVE in result.stdout
    for model_id in ("t:envvars", "t:header", "t:bot", "t:extra", "t:basic", "t:unmanaged"):
        assert model_id in result.stdout
    assert_no_leak(result.stdout, result.stderr)
    # Names of variables are not secrets: the in-sync entry is in sync.
    if output_format == "json":
        document = json.loads(result.stdout)
        kinds = {action["id"]: action["action"] for action in document["actions"]}
        assert kinds["t:friendly"] == "no-op"


def test_the_saved_plan_and_the_dry_run_hide_them_too(
    server: RegistryServer, models: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    planned = run(
        "plan", "--models-dir", str(models), "--prune", "--out", str(saved), url=server.url
    )
    assert planned.exit_code == 0, planned.output
    dry = run("apply", str(saved), "--dry-run", url=server.url)
    assert dry.exit_code == 0, dry.output
    assert "PATCH" in dry.stdout
    assert "DELETE" in dry.stdout
    assert_no_leak(saved.read_text("utf-8"), planned.output, dry.stdout, dry.stderr)
    assert [r for r in server.requests() if r.method != "GET"] == []


def test_apply_reports_without_them_and_keeps_names_and_counts(
    models: Path, tmp_path: Path
) -> None:
    seed = list_response(registry_model(body) for body in live_definitions())
    with RegistryServer(seed=seed, api_key=KEY) as fresh:
        applied = run(
            "apply", "--models-dir", str(models), "--prune", "--auto-approve", url=fresh.url
        )
        assert applied.exit_code == 0, applied.output
        assert "Apply complete:" in applied.stdout
        assert_no_leak(applied.stdout, applied.stderr)
        entries = fresh.entries()
        assert entries["t:friendly"]["definition"]["auth"] == FRIENDLY_AUTH
        assert "t:unmanaged" not in entries
        again = run("plan", "--models-dir", str(models), "--detailed-exitcode", url=fresh.url)
        assert again.exit_code == 0, again.output


def test_export_writes_placeholders_and_warns(server: RegistryServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("export", "--out-dir", str(out), url=server.url)
    assert result.exit_code == 0, result.output
    written = {path.stem: path.read_text("utf-8") for path in out.rglob("*.yaml")}
    assert_no_leak(result.stdout, result.stderr, *written.values())
    for field in (
        "t:envvars: auth.envVars.Authorization holds a secret",
        "t:header: auth.headers.X-Api-Pass holds a secret",
        "t:bot: baseUrl holds a secret",
        "t:extra: defaultParams.extra_body.pwd holds a secret",
        "t:basic: defaultParams.extra_body.auth holds a secret",
    ):
        assert f"warning: {field}; not written" in result.stderr
    assert f"Authorization: {PLACEHOLDER_ENV_VAR}" in written["envvars"]
    assert f"X-Api-Pass: {PLACEHOLDER_ENV_VAR}" in written["header"]
    assert f"https://api.telegram.org/{PLACEHOLDER_SECRET}/" in written["bot"]
    # Names of variables survive as they are.
    assert "Authorization: HF_TOKEN" in written["friendly"]
    assert "X-GitHub-Token: GITHUB_TOKEN" in written["friendly"]
    assert "X-Client-Name: registry-sync" in written["friendly"]
    # A placeholder is refused until someone replaces it, and never sent.
    checked = run("validate", "--models-dir", str(out))
    assert checked.exit_code == 1
    assert "bot.yaml:" in checked.stderr
    assert PLACEHOLDER_SECRET in checked.stderr
    # Each placeholder is reported once, as what it is.
    assert re.search(
        r"extra\.yaml:\d+: defaultParams\.extra_body\.pwd: TODO-REMOVED", checked.stderr
    )
    assert "extra_body.pwd: inline secret" not in checked.stderr


def test_validate_refuses_vendor_keys_at_their_line(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name, (where, key) in FILE_KEYS.items():
        if where == "envVar":
            body = minimal_definition(f"k:{name}", auth={"type": "api-key", "envVar": key})
        elif where == "envVars":
            auth = {"type": "custom-headers", "headers": {}, "envVars": {"X-Goog-Api-Key": key}}
            body = minimal_definition(f"k:{name}", auth=auth)
        elif where == "headers":
            auth = {"type": "custom-headers", "headers": {"X-Upstream": key}}
            body = minimal_definition(f"k:{name}", auth=auth)
        else:
            body = minimal_definition(f"k:{name}", displayName=key)
        (models / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")
    keys = tuple(key for _, key in FILE_KEYS.values())
    for command in (["validate"], ["plan", "--registry-file", os.devnull]):
        result = run(*command, "--models-dir", str(models))
        assert result.exit_code == 1, result.output
        assert_no_leak(result.stdout, result.stderr, secrets=keys)
        for name, (where, _) in FILE_KEYS.items():
            field = {
                "envVar": "auth.envVar",
                "envVars": "auth.envVars.X-Goog-Api-Key",
                "headers": "auth.headers.X-Upstream",
                "displayName": "displayName",
            }[where]
            message = "the name of an environment variable" if "env" in where else "inline secret"
            pattern = rf"{name}\.yaml:\d+: {re.escape(field)}: {message}"
            assert re.search(pattern, result.stderr), name


def test_names_and_counts_that_read_like_credentials_pass_strict_and_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_TOKEN and GITHUB_TOKEN as variable names, and the catalog's maxBatchTokens and
    tpm: validate --strict passes, export writes them, the next plan is empty and
    apply leaves them as they are."""
    body = minimal_definition(
        "acme:embed",
        apiFormat="embeddings",
        auth=FRIENDLY_AUTH,
        rateLimits=[{"scope": "org", "tpm": 100000}],
        embeddingLimits={"maxBatchTokens": 8000},
    )
    with RegistryServer(catalog_list([catalog_entry(body)]), api_key=KEY, api="catalog") as catalog:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "registry-sync.yaml").write_text("api: catalog\n", "utf-8")
        exported = run("export", "--out-dir", "models", url=catalog.url)
        assert exported.exit_code == 0, exported.output
        assert "warning" not in exported.stderr
        text = (tmp_path / "models" / "acme" / "embed.yaml").read_text("utf-8")
        assert "maxBatchTokens: 8000" in text
        assert "tpm: 100000" in text
        assert "HF_TOKEN" in text and "GITHUB_TOKEN" in text
        strict = run("validate", "--strict", "--models-dir", "models")
        assert strict.exit_code == 0, strict.output
        planned = run("plan", "--models-dir", "models", "--detailed-exitcode", url=catalog.url)
        assert planned.exit_code == 0, planned.output
        applied = run("apply", "--models-dir", "models", "--auto-approve", url=catalog.url)
        assert applied.exit_code == 0, applied.output
        assert [r.method for r in catalog.requests() if r.method != "GET"] == []
        (entry,) = catalog.catalog()["data"]
        assert entry["definition"]["embeddingLimits"] == {"maxBatchTokens": 8000}
        assert entry["definition"]["auth"] == FRIENDLY_AUTH


def test_a_server_message_quoting_a_key_is_redacted(tmp_path: Path) -> None:
    """An error body may quote what the registry holds: the error names the request
    and status, and shows each key as (sensitive)."""
    body = json.dumps(
        {"error": {"message": "conflict with auth.value sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}
    )
    with RegistryServer(api_key=KEY) as failing:
        failing.inject(Fault("status", method="GET", status=409, body=body, times=None))
        result = run("plan", "--models-dir", str(tmp_path), "--api", "registry", url=failing.url)
    assert result.exit_code == 1
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in result.output
    assert f"409: conflict with auth.value {SENSITIVE}" in result.stderr
