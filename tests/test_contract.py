"""Contract tests against the official SDK (``meetkai-mka1==0.6.40``), the independent
statement of the API's schema.

Every body the tool sends validates with the SDK's request models AND serialises back
to exactly the body sent (the SDK silently turns a nested shape it does not know into
"unset"); every response of the local server parses with its response models; every
example and fixture passes; and a corpus of definitions the SDK accepts exports,
validates and plans as "No changes".
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from meetkai_mka1.models import (
    AddRegistryModelRequest,
    RegistryModelListResponse,
    RegistryModelResponse,
    UpdateRegistryModelRequest,
)
from paths import DATA, EXAMPLE_REGISTRY, ROOT
from pydantic import BaseModel, ValidationError

from registry_sync.cli import cli
from registry_sync.desired.loader import load_models
from registry_sync.schema.definition import api_problems
from registry_sync.schema.fields import health_check_form
from registry_sync.testing import (
    RegistryServer,
    StoreRules,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-contract-91b2"
API = "/api/v1/llm/models/registry"


def assert_round_trips(body: dict[str, Any], model: type[BaseModel]) -> None:
    """``body`` validates with the SDK model and serialises back to exactly itself."""
    validated = model.model_validate(body, by_alias=True)
    assert validated.model_dump(by_alias=True, exclude_unset=True) == body


def add_body(declared: dict[str, Any]) -> dict[str, Any]:
    """The body apply POSTs for a declared definition (created stamped if absent)."""
    return {"created": 1_704_067_200, **declared}


# --- the generated corpus ---------------------------------------------------------------

AUTHS: list[dict[str, Any]] = [
    {"type": "none"},
    {"type": "api-key", "envVar": "UPSTREAM_KEY"},
    {"type": "api-key", "envVar": "UPSTREAM_KEY", "headerName": "X-Api-Key"},
    {"type": "api-key"},
    {"type": "custom-headers", "headers": {"X-Org": "team"}},
    {"type": "custom-headers", "headers": {}, "envVars": {"X-Token": "TOKEN"}},
    {
        "type": "composite",
        "strategies": [
            {"type": "api-key", "envVar": "K", "headerName": "api-key"},
            {"type": "custom-headers", "headers": {"X-Client": "c"}, "envVars": {"X-T": "T"}},
        ],
    },
    {"type": "composite", "strategies": []},
]
HEALTH_CHECKS: list[dict[str, Any] | None] = [
    None,
    {"mode": "off"},
    {"mode": "preflight", "path": "/health"},
    {"mode": "preflight", "path": "", "method": "HEAD", "timeoutMs": 0, "cacheTtlSeconds": 0},
    {"mode": "periodic", "path": "/models", "intervalSeconds": 0},
    {"mode": "periodic", "path": "/h", "intervalSeconds": 60, "method": "GET", "timeoutMs": 1},
]
OPTIONAL: list[dict[str, Any]] = [
    {},
    {
        "displayName": "",
        "baseUrl": "not a url",
        "contextWindow": 0,
        "rpm": 0,
        "rateLimits": [],
        "concurrency": {"max": 0},
        "requestTimeoutMs": 0,
        "maxRetries": 0,
        "defaultParams": {},
        "rerouteRules": [],
        "hidden": False,
        "embeddingLimits": {},
    },
    {
        "displayName": "Chat",
        "baseUrl": "https://llm.example.com/v1",
        "contextWindow": 128000,
        "rpm": -1,
        "rateLimits": [
            {"scope": "apiKey", "rpm": 0, "duration": 0, "queue": {"maxDepth": 0, "maxWaitMs": 0}}
        ],
        "concurrency": {"max": 4, "maxWaitMs": 0},
        "defaultParams": {"temperature": 0, "topP": 2, "presencePenalty": -1.5},
        "rerouteRules": [
            {"trigger": {"type": "input-modality", "modality": "image"}, "targetModelId": "x:y"},
            {"trigger": {"type": "error-fallback"}, "targetModelId": "x:y", "log": False},
        ],
        "hidden": True,
        "embeddingLimits": {"maxBatchSize": 0, "dimensions": {"min": 9, "max": 1, "default": 5}},
    },
]
CAPABILITIES: list[dict[str, Any]] = [
    {"modalities": {"input": [], "output": []}, "reasoning": False},
    {
        "modalities": {"input": ["image", "text", "audio"], "output": ["text", "video"]},
        "reasoning": True,
        "supportsTemperature": False,
        "supportsTopP": True,
        "supportedBase64Formats": ["webp", "png"],
        "supportsCompletionVideoUrlMessage": False,
        "maxImageResolution": {"maxWidth": 0, "maxHeight": 0},
        "minImageResolution": {"maxWidth": 1, "maxHeight": 1},
    },
]


def corpus() -> list[dict[str, Any]]:
    """Definitions the SDK accepts: every auth type and health-check mode, optional
    fields absent and present, zero and out-of-advice values; ids the x:y target."""
    bodies = [minimal_definition("x:y")]
    combinations = itertools.product(AUTHS, HEALTH_CHECKS, OPTIONAL, CAPABILITIES)
    for number, (auth, health, optional, capabilities) in enumerate(combinations):
        body = minimal_definition(
            f"gen:model-{number:03d}", auth=auth, capabilities=capabilities, **optional
        )
        if number % 3 == 0:
            del body["apiProviderType"]  # a live entry may lack it
        if health is not None:
            body["healthCheck"] = health
        bodies.append(body)
    return bodies


CORPUS = corpus()


def test_the_corpus_is_what_the_sdk_accepts() -> None:
    assert len(CORPUS) > 250
    for body in CORPUS:
        assert_round_trips({"apiProviderType": "openai", **body}, AddRegistryModelRequest)
        assert api_problems({"apiProviderType": "openai", **body}, update=False) == []


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[RegistryServer]:
    seed = list_response(registry_model(body) for body in CORPUS)
    with RegistryServer(seed=seed, api_key=KEY) as server:
        yield server


def run(*args: str, url: str) -> Result:
    env = {"MKA1_API_KEY": KEY, "MKA1_API_URL": url, "NO_COLOR": None}
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_corpus_exports_validates_and_plans_as_no_changes(
    corpus_server: RegistryServer, tmp_path: Path
) -> None:
    out = tmp_path / "models"

    exported = run("export", "--out-dir", str(out), url=corpus_server.url)
    assert exported.exit_code == 0, exported.output
    assert exported.stderr == ""
    validated = run("validate", "--models-dir", str(out), url=corpus_server.url)
    assert validated.exit_code == 0, validated.output
    planned = run("plan", "--models-dir", str(out), "--detailed-exitcode", url=corpus_server.url)
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.startswith("No changes.")
    assert {r.method for r in corpus_server.requests()} == {"GET"}


# --- what the tool sends -------------------------------------------------------------------


def sent_bodies(server: RegistryServer) -> Iterator[tuple[str, dict[str, Any]]]:
    for request in server.requests():
        if request.method in ("POST", "PATCH") and isinstance(request.body, dict):
            yield request.method, request.body


def test_every_body_apply_sends_round_trips_through_the_sdk(tmp_path: Path) -> None:
    live = [
        minimal_definition("a:update", rpm=60, hidden=True, healthCheck={"mode": "off"}),
        minimal_definition("a:replace", rateLimits=[{"scope": "org", "rpm": 5}]),
    ]
    declared = [
        minimal_definition("a:update", contextWindow=8192),  # changes one, clears three
        minimal_definition("a:replace"),
        {k: v for k, v in minimal_definition("a:create").items() if k != "created"},
        minimal_definition(
            "a:full",
            auth=AUTHS[6],
            capabilities=CAPABILITIES[1],
            healthCheck=HEALTH_CHECKS[5],
            **OPTIONAL[2],
        ),
    ]
    models = tmp_path / "models"
    models.mkdir()
    for body in declared:
        name = body["id"].replace(":", "-") + ".json.yaml"
        (models / name).write_text(json.dumps(body), "utf-8")
    seed = list_response(registry_model(body) for body in [*live, minimal_definition("x:y")])
    with RegistryServer(seed=seed, api_key=KEY) as server:
        result = run(
            "apply",
            "--models-dir",
            str(models),
            "--replace",
            "a:replace",
            "--auto-approve",
            url=server.url,
        )
        assert result.exit_code == 0, result.output
        sent = list(sent_bodies(server))

    patches = [body for method, body in sent if method == "PATCH"]
    posts = [body for method, body in sent if method == "POST"]
    assert patches == [{"contextWindow": 8192, "rpm": None, "hidden": None, "healthCheck": None}]
    assert sorted(body["id"] for body in posts) == ["a:create", "a:full", "a:replace"]
    for body in patches:
        assert_round_trips(body, UpdateRegistryModelRequest)
    for body in posts:
        assert_round_trips(body, AddRegistryModelRequest)


# --- examples and fixtures -----------------------------------------------------------------


def fixture_definitions() -> Iterator[tuple[str, dict[str, Any]]]:
    for folder in (ROOT / "models", DATA / "valid"):
        for declared in load_models(folder).definitions:
            yield declared.file, declared.body
    document = json.loads((EXAMPLE_REGISTRY).read_text("utf-8"))
    for item in document["data"]:
        definition = {
            k: v for k, v in item["definition"].items() if k not in ("source", "immutable")
        }
        yield f"examples/registry.json:{item['id']}", {"id": item["id"], **definition}


def test_every_example_and_fixture_passes_the_sdk() -> None:
    checked = 0
    for where, body in fixture_definitions():
        request = add_body(body)
        if health_check_form(body.get("healthCheck")) == "url-form":
            # Read and compared as the registry holds it, never written: the SDK's add
            # model refuses it and its update model drops it silently.
            with pytest.raises(ValidationError):
                AddRegistryModelRequest.model_validate(request, by_alias=True)
            with pytest.raises(AssertionError):
                assert_round_trips({"healthCheck": body["healthCheck"]}, UpdateRegistryModelRequest)
            continue
        if "apiProviderType" not in request:
            # A live entry may lack it (the documentation's example does); a write
            # needs it, and plan says so at the file's line.
            request["apiProviderType"] = "openai"
        validated = AddRegistryModelRequest.model_validate(request, by_alias=True)
        assert validated.model_dump(by_alias=True, exclude_unset=True) == request, where
        checked += 1
    assert checked >= 10


def test_every_response_of_the_local_server_parses_with_the_sdk() -> None:
    body = minimal_definition("a:b", rpm=1)
    for store_nulls in (False, True):
        with (
            RegistryServer(api_key=KEY, store=StoreRules(store_nulls=store_nulls)) as server,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as http,
        ):
            RegistryModelResponse.model_validate(http.post(API, json=body).json())
            path = f"{API}/a%3Ab"
            RegistryModelResponse.model_validate(http.patch(path, json={"rpm": None}).json())
            RegistryModelResponse.model_validate(http.get(path).json())
            RegistryModelListResponse.model_validate(http.get(API).json())
