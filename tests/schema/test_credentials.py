"""What a credential looks like (registry_sync.schema.credentials), checked against
detect-secrets' own plugins: a sample any of them flags, the table flags too."""

from __future__ import annotations

import pytest
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.schema.credentials import (
    SHAPES,
    _gate,
    _literal_led,
    _shape,
    has_credential_shape,
    is_high_entropy,
    looks_like_credential,
)

PLUGINS: tuple[RegexBasedDetector, ...] = (
    AWSKeyDetector(),
    GitHubTokenDetector(),
    GitLabTokenDetector(),
    JwtTokenDetector(),
    OpenAIDetector(),
    PrivateKeyDetector(),
    SendGridDetector(),
    SlackDetector(),
    StripeDetector(),
    TelegramBotTokenDetector(),
)
JWT = (
    "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogInJl"
    "Z2lzdHJ5IHN5bmMifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
# One sample per format, each in some text around it.
SAMPLES = {
    "openai": "key sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789 here",
    "openai project": "sk-proj-Zq4vB7nL2xR9tK1mW8pY3sD6fH0jG5cA",
    "anthropic": "sk-ant-api03-Zq4vB7nL2xR9tK1mW8pY3sD6fH0jG5cAe1",
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "stripe restricted": "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "github": "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXY",
    "github oauth": "gho_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXY",
    "github fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "gitlab": "glpat-Zq4vB7nL2xR9tK1mW8pY",
    "slack": "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1",
    "slack webhook": "https://hooks.slack.com/services/T0001/B0001/abcdefGHIJKL0123",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "google": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "jwt": JWT,
    "telegram": "https://api.telegram.org/bot1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1/",
    "sendgrid": "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "private key": "-----BEGIN RSA PRIVATE KEY-----",
    "bearer": "Bearer sk-live-4eC39HqLyjWDarjtT1zdp7dc",
    "basic": "Basic YWRtaW46aHVudGVyMi1wcm9k",
    "basic after words": "use Basic YWRtaW46aHVudGVyMi1wcm9k for it",
}
# Formats detect-secrets has no plugin for: gitleaks' rules and HTTP's schemes.
NOT_IN_DETECT_SECRETS = {
    "openai project",
    "anthropic",
    "github fine-grained",
    "google",
    "bearer",
    "basic",
    "basic after words",
}
PLAIN = (
    "gpt-4o-2024-08-06",
    "Meta-Llama-3.1-70B-Instruct-Turbo",
    "text-embedding-3-large",
    "Basic embeddings for everyone",
    "Bearer of good news",
    "ASSISTANT_CHAT_API_KEY",
    "HF_TOKEN",
    "https://llm.internal.example.com/v1/chat/completions?api-version=2024-06-01",
    "2024-11-20T10:00:00Z",
    "skip-this-task-please",
)


def flagged_by_detect_secrets(text: str) -> bool:
    return any(next(iter(plugin.analyze_string(text)), None) for plugin in PLUGINS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_format_is_a_credential_anywhere(name: str) -> None:
    sample = SAMPLES[name]
    assert has_credential_shape(sample)
    assert has_credential_shape(f"prefix {sample} suffix")
    # Every sample is a real test of the table: detect-secrets flags it, or it is one
    # of the formats the table adds.
    assert flagged_by_detect_secrets(sample) or name in NOT_IN_DETECT_SECRETS


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_no_credential(text: str) -> None:
    assert not has_credential_shape(text)
    assert not flagged_by_detect_secrets(text)


@pytest.mark.parametrize(
    ("text", "random"),
    [
        ("a1B2c3D4e5F6g7H8i9J0k1L2m3", True),
        ("5f4dcc3b5aa765d61d8327deb882cf99", True),
        ("sk-live-4eC39HqLyjWDarjtT1zdp7dc", True),
        ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", True),
        ("gemini15proexperimental0827", False),
        ("my-deployment-name-2024-11-20-preview", False),
        ("Meta-Llama-3.1-70B-Instruct-Turbo", False),
        ("ASSISTANT_CHAT_API_KEY", False),
        ("aaaa1111aaaa1111aaaa", False),
        ("hunter2-prod-pw", False),
    ],
)
def test_random_looking_text(text: str, random: bool) -> None:
    assert is_high_entropy(text) is random


@pytest.mark.parametrize(
    ("value", "credential"),
    [
        ("Bearer abc.def", True),  # any scheme-prefixed value, where credentials go
        ("token abc", True),
        ("sk-proj-abcdefgh12345", True),  # a vendor prefix, however short the rest
        ("application/json", False),
        ("registry-sync", False),
        ("eu-west-1", False),
    ],
)
def test_where_credentials_go(value: str, credential: bool) -> None:
    assert looks_like_credential(value) is credential


@pytest.mark.parametrize(("what", "pattern"), SHAPES, ids=[what for what, _ in SHAPES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_quick_search_finds_every_key_the_full_one_does(
    what: str, pattern: str, data: st.DataObject
) -> None:
    # The full search runs only where the quick one found something: a key of any
    # format, alone or in any text around it, found by the full search is found by
    # the quick one.
    key = data.draw(st.from_regex(pattern, fullmatch=True), label=what)
    around = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
    text = data.draw(around) + key + data.draw(around)
    assert _shape().search(key) is not None
    assert _gate().search(key) is not None
    if _shape().search(text) is not None:  # not when a GitLab token runs on into the text
        assert _gate().search(text) is not None


@pytest.mark.parametrize("text", [*SAMPLES.values(), *PLAIN, JWT[:40]])
def test_the_quick_search_answers_as_the_full_one_on_the_samples(text: str) -> None:
    if _shape().search(text) is not None:
        assert _gate().search(text) is not None


@pytest.mark.parametrize(
    ("pattern", "branches"),
    [
        ("[rs]k_", ["rk_", "sk_"]),
        ("[xX]o", ["xo", "Xo"]),
        ("[0-3a]:", ["0:", "1:", "2:", "3:", "a:"]),
        ("sk-[a-z]", ["sk-[a-z]"]),  # led by a literal already
        ("[^a]b", ["[^a]b"]),  # anything else stays as it is
        ("[.a]b", ["[.a]b"]),
        ("(?:a|b)c", ["(?:a|b)c"]),
    ],
)
def test_a_leading_class_becomes_a_branch_per_character(pattern: str, branches: list[str]) -> None:
    assert _literal_led(pattern) == branches
