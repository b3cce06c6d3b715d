"""Shared fixtures: a running local registry seeded with a small realistic document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from registry_sync.settings.defaults import CACHE_DIR_ENV
from registry_sync.testing import RegistryServer, list_response, registry_model

IMMUTABLE_ID = "meetkai:functionary-medium-v3"


@pytest.fixture(autouse=True, scope="session")
def _parse_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands run by tests cache parsed files there, never in the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(tmp_path_factory.mktemp("parse-cache")))
        yield


DATABASE_IDS = ("meetkai:my-custom-chat-v1", "meetkai:embed-small-v1", "meetkai:vision-router-v1")


def _capabilities(inputs: list[str], outputs: list[str], reasoning: bool = False) -> dict[str, Any]:
    return {"modalities": {"input": inputs, "output": outputs}, "reasoning": reasoning}


# Every seeded entry passed its last health probe on 2025-01-01.
HEALTH = {"is_available": True, "last_health_check": 1735689600000, "error": None}


def _seed_document() -> dict[str, Any]:
    """A fresh list response: one immutable (YAML) entry and three database entries."""
    return list_response(
        [
            registry_model(
                {
                    "id": IMMUTABLE_ID,
                    "provider": "meetkai",
                    "modelId": "functionary-medium-v3.1",
                    "displayName": "Functionary Medium v3",
                    "apiFormat": "responses",
                    "apiProviderType": "meetkai",
                    "created": 1719792000,
                    "auth": {"type": "none"},
                    "capabilities": _capabilities(["text"], ["text"], reasoning=True),
                    "contextWindow": 128000,
                },
                immutable=True,
                health=HEALTH,
                created_at=None,
                updated_at=None,
            ),
            registry_model(
                {
                    "id": DATABASE_IDS[0],
                    "provider": "openai-compatible",
                    "modelId": "my-custom-chat-v1",
                    "displayName": "My custom chat v1",
                    "baseUrl": "https://llm.internal.example.com/v1",
                    "apiFormat": "completions",
                    "created": 1704067200,
                    "auth": {"type": "api-key", "envVar": "CUSTOM_CHAT_KEY"},
                    "capabilities": {
                        **_capabilities(["text", "image"], ["text"]),
                        "supportsTemperature": True,
                    },
                    "contextWindow": 32768,
                    "rpm": 600,
                    "defaultParams": {"temperature": 0.7},
                },
                health=HEALTH,
                created_at=1704067200000,
                updated_at=1704153600000,
            ),
            registry_model(
                {
                    "id": DATABASE_IDS[1],
                    "provider": "openai-compatible",
                    "modelId": "text-embedding-3-small",
                    "baseUrl": "https://api.openai.com/v1",
                    "apiFormat": "embeddings",
                    "apiProviderType": "openai",
                    "created": 1706745600,
                    "auth": {"type": "api-key", "envVar": "OPENAI_API_KEY"},
                    "capabilities": _capabilities(["text"], ["text"]),
                    "embeddingLimits": {"maxBatchSize": 2048, "dimensions": 1536},
                },
                health=HEALTH,
                created_at=1704067200000,
                updated_at=1706832000000,
            ),
            registry_model(
                {
                    "id": DATABASE_IDS[2],
                    "provider": "openai-compatible",
                    "modelId": "router-small",
                    "apiFormat": "responses",
                    "created": 1709251200,
                    "auth": {"type": "none"},
                    "capabilities": _capabilities(["text"], ["text"]),
                    "rerouteRules": [
                        {
                            "trigger": {"type": "input-modality", "modality": "image"},
                            "targetModelId": DATABASE_IDS[0],
                        }
                    ],
                    "hidden": True,
                },
                health=HEALTH,
                created_at=1704067200000,
                updated_at=1709337600000,
            ),
        ]
    )


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """A FORCE_COLOR in the caller's environment must not colour the expected output."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture
def registry_seed() -> dict[str, Any]:
    """A fresh copy of the list response the ``registry_server`` fixture starts from."""
    return _seed_document()


@pytest.fixture
def registry_server(registry_seed: dict[str, Any]) -> Iterator[RegistryServer]:
    """A running local registry (key ``test-key``) seeded with ``registry_seed``.

    Seeded entries: ``meetkai:functionary-medium-v3`` (immutable, source "yaml") and the
    database entries ``meetkai:my-custom-chat-v1``, ``meetkai:embed-small-v1`` and
    ``meetkai:vision-router-v1``.
    """
    with RegistryServer(seed=registry_seed, api_key="test-key") as server:
        yield server
