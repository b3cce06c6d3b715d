"""What counts as a secret, and redaction."""

from __future__ import annotations

from typing import Any

import pytest

from registry_sync.schema.secrets import (
    SENSITIVE,
    is_credential_header,
    redact,
    redact_text,
    secret_paths,
    url_has_credentials,
)


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("Authorization", "anything", True),
        ("X-Api-Key", "abc", True),
        ("x-auth-token", "abc", True),
        ("X-Region", "eu-west-1", False),
        ("X-Client-Name", "registry-sync", False),
        ("X-Custom", "Bearer abc.def", True),
        ("X-Custom", "sk-proj-abcdefgh12345", True),
        ("X-Custom", "a1B2c3D4e5F6g7H8i9J0k1L2m3", True),
        ("X-Custom", "application/json", False),
        ("X-Count", 3, False),
    ],
)
def test_credential_headers(name: str, value: object, secret: bool) -> None:
    assert is_credential_header(name, value) is secret


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://user:pw@host/v1", True),
        ("https://token@host/v1", True),
        ("https://host/v1", False),
        (None, False),
        ("http://[bad", False),
    ],
)
def test_url_credentials(url: object, secret: bool) -> None:
    assert url_has_credentials(url) is secret


def test_secret_paths_cover_nested_composite_auth() -> None:
    definition: dict[str, Any] = {
        "baseUrl": "https://u:p@h",
        "healthCheck": {"url": "https://probe:pw@h/status", "method": "GET"},
        "auth": {
            "type": "composite",
            "strategies": [
                {"type": "api-key", "value": "x"},
                {"type": "custom-headers", "headers": {"Authorization": "y", "X-Region": "eu"}},
            ],
        },
    }
    assert list(secret_paths(definition)) == [
        ("baseUrl",),
        ("healthCheck", "url"),
        ("auth", "strategies", 0, "value"),
        ("auth", "strategies", 1, "headers", "Authorization"),
    ]


def test_redact_copies_and_hides() -> None:
    definition: dict[str, Any] = {"auth": {"type": "api-key", "value": "sk-1", "envVar": "K"}}
    hidden = redact(definition)
    assert hidden == {"auth": {"type": "api-key", "value": SENSITIVE, "envVar": "K"}}
    assert definition["auth"]["value"] == "sk-1"


def test_redact_returns_the_same_object_when_there_is_no_secret() -> None:
    definition: dict[str, Any] = {"auth": {"type": "none"}}
    assert redact(definition) is definition


@pytest.mark.parametrize(
    "text",
    [
        "id: a\nbaseUrl: https://up.example.com/v1\nauth: {type: api-key, envVar: K}\n",
        "id: a\nbaseUrl: https://user:pw@up.example.com/v1\n",
        "id: a\nbaseUrl: https://up.example.com/v1?api_key=x\n",
        "id: a\nbaseUrl: 'https://[broken'\n",
        "id: a\ndefaultParams: {apiKey: sk-123}\n",
        "id: a\nextra: {deep: [{sessionToken: x}]}\n",
        "id: a\nlinks: [https://ok.example.com, 'https://x.example.com/#sig=1']\n",
        "id: a\nauth: {type: custom-headers, headers: {Authorization: Bearer abc}}\n",
        "id: a\nauth: {type: custom-headers, headers: {X: y}, envVars: {Authorization: K}}\n",
        "id: a\nauth: {type: api-key, value: plain}\n",
        "id: a\nthing: !!binary aHR0cHM6Ly91OnBAaA==\nnested: {password: p}\n",
        "id: a\nbase: &b {token: t}\nother: {<<: *b}\n",
        "id: a\n7: https://u:p@h.example.com\n",
        "https://u:p@h.example.com\n",
        "id: a\ndisplayName: sk-ant-api03-Zq4vB7nL2xR9tK1mW8pY3sD6fH0jG5cAe1\n",
        'id: a\nmodelId: "\\x73k_live_4eC39HqLyjWDarjtT1zdp7dc"\n',
        "id: a\nlist: [{deep: [AKIAIOSFODNN7EXAMPLE]}]\n",
        "id: a\nextra_body: {pwd: short}\n",
        "id: a\nbaseUrl: https://h.example.com/TODO-REMOVED-SECRET/v1\n",
        "id: a\nnote: >-\n  Bearer\n  sk-live-4eC39HqLyjWDarjtT1zdp7dc\n",
    ],
)
def test_the_readers_judgement_never_hides_a_secret(text: str) -> None:
    """The loader walks a file's data for secrets outside the known places only when
    the reader, judging every key, link and long text it built, says there may be
    one: what it finds then is what the full walk finds."""
    from registry_sync.schema.secrets import may_hold_secrets_elsewhere, placeholder_paths
    from registry_sync.yamlio.source import parse_documents

    (document,), error = parse_documents(text, may_hold_secrets_elsewhere)
    assert error is None
    if isinstance(document.data, dict):
        everything = list(secret_paths(document.data))
        assert list(secret_paths(document.data, elsewhere=document.flagged)) == everything
        placeholders = list(placeholder_paths(document.data))
        assert list(placeholder_paths(document.data, elsewhere=document.flagged)) == placeholders
    else:
        assert document.flagged


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("no key here", "no key here"),
        ("key ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXY used", "key (sensitive) used"),
        (
            "AKIAIOSFODNN7EXAMPLE and Bearer sk-live-4eC39HqLyjWDarjtT1zdp7dc",
            "(sensitive) and (sensitive)",
        ),
        ("Basic embeddings for everyone", "Basic embeddings for everyone"),
    ],
)
def test_redact_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_a_name_is_judged_the_same_the_second_time() -> None:
    # The verdicts on names are remembered (the names of a registry repeat).
    from registry_sync.schema.secrets import may_hold_secrets_elsewhere

    for _ in range(2):
        assert may_hold_secrets_elsewhere({"id", "extraHeadersSecret"}, [])
        assert not may_hold_secrets_elsewhere({"id", "temperatureFloor"}, [])
