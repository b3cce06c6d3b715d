"""A registry holding the five live secret shapes of issue 23, and the clean files
that declare it: shared by the leak tests of the CLI and of the GitHub Action."""

from __future__ import annotations

from typing import Any

from registry_sync.testing import minimal_definition

__all__ = [
    "FRIENDLY_AUTH",
    "LIVE_SECRETS",
    "declared",
    "live_definitions",
]

# The five live shapes of issue 23: a credential in envVars, a header value that is a
# credential by the header's name only, a bot token in a URL path, and two values in
# a free-form map (one by its key's name, one by its shape).
BEARER = "Bearer sk-live-4eC39HqLyjWDarjtT1zdp7dc"
HEADER_PASSWORD = "hunter2-prod-pw"
BOT_TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
EXTRA_PASSWORD = "correct-horse-battery"
BASIC = "Basic YWRtaW46aHVudGVyMi1wcm9k"
LIVE_SECRETS: tuple[str, ...] = (
    BEARER,
    "sk-live-4eC39HqLyjWDarjtT1zdp7dc",
    HEADER_PASSWORD,
    BOT_TOKEN,
    EXTRA_PASSWORD,
    BASIC,
    "YWRtaW46aHVudGVyMi1wcm9k",
)

# Names and counts that only read like credentials.
FRIENDLY_AUTH = {
    "type": "custom-headers",
    "headers": {"X-Client-Name": "registry-sync"},
    "envVars": {"Authorization": "HF_TOKEN", "X-GitHub-Token": "GITHUB_TOKEN"},
}


def live_definitions() -> list[dict[str, Any]]:
    return [
        minimal_definition(
            "t:envvars",
            auth={"type": "custom-headers", "headers": {}, "envVars": {"Authorization": BEARER}},
        ),
        minimal_definition(
            "t:header",
            auth={"type": "custom-headers", "headers": {"X-Api-Pass": HEADER_PASSWORD}},
        ),
        minimal_definition("t:bot", baseUrl=f"https://api.telegram.org/bot{BOT_TOKEN}/"),
        minimal_definition(
            "t:extra",
            defaultParams={"temperature": 0.2, "extra_body": {"pwd": EXTRA_PASSWORD}},
        ),
        minimal_definition(
            "t:basic", defaultParams={"temperature": 0.2, "extra_body": {"auth": BASIC}}
        ),
        minimal_definition("t:friendly", auth=FRIENDLY_AUTH),
        # Nobody declares it: plan --prune shows it whole, holding every shape.
        minimal_definition(
            "t:unmanaged",
            baseUrl=f"https://api.telegram.org/bot{BOT_TOKEN}/",
            auth={
                "type": "custom-headers",
                "headers": {"X-Api-Pass": HEADER_PASSWORD},
                "envVars": {"Authorization": BEARER},
            },
            defaultParams={"extra_body": {"pwd": EXTRA_PASSWORD, "auth": BASIC}},
        ),
    ]


def declared() -> dict[str, dict[str, Any]]:
    """What models/ declares for the managed entries: clean, and different from the
    live entries exactly where they hold the secrets."""
    return {
        "t:envvars": minimal_definition(
            "t:envvars",
            auth={
                "type": "custom-headers",
                "headers": {},
                "envVars": {"Authorization": "CHAT_KEY"},
            },
        ),
        "t:header": minimal_definition(
            "t:header",
            auth={
                "type": "custom-headers",
                "headers": {},
                "envVars": {"X-Api-Pass": "HEADER_PASS"},
            },
        ),
        "t:bot": minimal_definition("t:bot", baseUrl="https://api.telegram.org/v1/"),
        "t:extra": minimal_definition("t:extra", defaultParams={"temperature": 0.5}),
        "t:basic": minimal_definition("t:basic", defaultParams={"temperature": 0.5}),
        "t:friendly": minimal_definition("t:friendly", auth=FRIENDLY_AUTH),
    }
