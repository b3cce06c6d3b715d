"""Secrets outside the known places: redacted in every output, left out by export,
rejected by validate. One rule (registry_sync.schema.secrets) decides, for all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.schema.secrets import SENSITIVE, redact, secret_paths, url_is_secret
from registry_sync.testing import RegistryServer, list_response, minimal_definition, registry_model

KEY = "sk-leaks-test-key-91c2"
LEAKS = ("LEAK-apikey-0001", "LEAK-subkey-0002", "AIzaLEAK0003", "LEAK0004")


def leaky() -> list[dict[str, Any]]:
    return [
        minimal_definition("t:apikey", auth={"type": "api-key", "envVar": "K", "apiKey": LEAKS[0]}),
        minimal_definition(
            "t:header",
            auth={"type": "custom-headers", "headers": {"Ocp-Apim-Subscription-Key": LEAKS[1]}},
        ),
        minimal_definition("t:query", baseUrl=f"https://gen.example.com/v1?key={LEAKS[2]}"),
        minimal_definition("t:unparsed", baseUrl=f"https://host:{LEAKS[3]}/v1"),
    ]


def clean(model_id: str) -> dict[str, Any]:
    """What models/ declares: no secret, and different from the live entry."""
    return minimal_definition(
        model_id,
        auth={"type": "api-key", "envVar": "K"},
        baseUrl="https://gen.example.com/v1",
        contextWindow=1000,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    seed = list_response(registry_model(body) for body in leaky())
    with RegistryServer(seed=seed, api_key=KEY) as running:
        yield running


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"MKA1_API_KEY": KEY, "NO_COLOR": None})


def assert_no_leak(*texts: str) -> None:
    for text in texts:
        for leak in LEAKS:
            assert leak not in text


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_plan_never_prints_a_secret_outside_the_known_places(
    server: RegistryServer, tmp_path: Path, output_format: str
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for body in leaky():
        (models / f"{body['id'].split(':')[1]}.yaml").write_text(
            yaml.safe_dump(clean(body["id"])), "utf-8"
        )
    result = run(
        "plan", "--models-dir", str(models), "--api-url", server.url, "--format", output_format
    )
    assert result.exit_code == 0, result.stderr
    assert SENSITIVE in result.stdout
    assert_no_leak(result.stdout, result.stderr)


def test_export_writes_placeholders_not_secrets(server: RegistryServer, tmp_path: Path) -> None:
    result = run("export", "--api-url", server.url, "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    written = {path.name: path.read_text("utf-8") for path in (tmp_path / "out").rglob("*.yaml")}
    assert len(written) == 4
    assert_no_leak(result.stdout, result.stderr, *written.values())
    assert "warning: t:apikey: auth.apiKey holds a secret; not written" in result.stderr
    assert "warning: t:header: auth.headers.Ocp-Apim-Subscription-Key holds a secret" in (
        result.stderr
    )
    assert "https://gen.example.com/v1\n" in written["query.yaml"]
    assert "\nbaseUrl:" not in written["unparsed.yaml"]


def test_validate_rejects_the_same_values_in_files(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for body in leaky():
        (models / f"{body['id'].split(':')[1]}.yaml").write_text(yaml.safe_dump(body), "utf-8")
    result = run("validate", "--models-dir", str(models))
    assert result.exit_code == 1
    assert_no_leak(result.stdout, result.stderr)
    for where in (
        "apikey.yaml:4: auth.apiKey: inline secret",
        "header.yaml:5: auth.headers.Ocp-Apim-Subscription-Key: inline secret",
        "query.yaml:5: baseUrl: inline secret",
        "unparsed.yaml:5: baseUrl: not a URL that parses, so it cannot be checked for "
        "credentials and is never printed; fix it",
    ):
        assert where in result.stderr


@pytest.mark.parametrize(
    ("definition", "paths"),
    [
        (
            {"apiKey": "x", "nested": [{"clientSecret": "y"}]},
            [("apiKey",), ("nested", 0, "clientSecret")],
        ),
        ({"auth": {"type": "api-key", "envVars": {"X-Api-Key": "ENV_NAME"}}}, []),
        ({"notes": "see https://docs.example.com/?sig=abc"}, []),  # not a URL from the start
        ({"links": ["https://a.example.com/?access_token=abc", "https://b/"]}, [("links", 0)]),
        ({"baseUrl": "https://h/v1#token=abc"}, [("baseUrl",)]),
        ({"baseUrl": "https://h/v1?region=eu"}, []),
        ({"Password": None}, []),  # nothing there to hide
    ],
)
def test_one_rule_decides(definition: dict[str, Any], paths: list[tuple[Any, ...]]) -> None:
    assert list(secret_paths(definition)) == paths
    if paths:
        assert redact(definition) != definition


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://h/v1?key=AIza", True),
        ("https://h/v1?X-Amz-Signature=abc", True),
        ("https://h/v1?sig=abc", True),
        ("https://h/v1?api-version=2024", False),
        ("http://[bad", True),
        ("https://h:notaport/", True),
        ("https://u:p@h/", True),
        ("https://api.telegram.org/bot1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1/", True),
        ("https://h/v1/a1B2c3D4e5F6g7H8i9J0k1L2m3/chat", True),
        ("https://h/v1?code=a1B2c3D4e5F6g7H8i9J0k1L2m3", True),
        ("https://h/v1?tenant=a1B2c3D4e5F6g7H8i9J0k1L2m3", True),
        # Ids in a path: an account's hex id, a UUID, a deployment's name.
        ("https://gateway.ai.cloudflare.com/v1/5f4dcc3b5aa765d61d8327deb882cf99/gw/openai", False),
        ("https://h/v1/123e4567-e89b-12d3-a456-426614174000/", False),
        ("https://h/openai/deployments/Meta-Llama-3.1-70B-Instruct-Turbo/chat", False),
    ],
)
def test_url_is_secret(url: str, secret: bool) -> None:
    assert url_is_secret(url) is secret
