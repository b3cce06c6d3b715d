"""Fields a newer server holds are exported for the record, as comments: never as
declarations, and a secret among them only as (sensitive)."""

from __future__ import annotations

from registry_sync.export.files import plan_export
from registry_sync.live.entries import LiveEntry
from registry_sync.testing import minimal_definition

SECRET = "sk-live-UNKNOWN-0123456789abcdef"


def test_unknown_fields_are_exported_as_comments_with_secrets_hidden() -> None:
    definition = minimal_definition("acme:new", futureRouting={"tier": "gold"}, futureToken=SECRET)
    entry = LiveEntry("acme:new", False, "database", definition)
    (file,) = plan_export([entry]).files
    assert '#   futureRouting: {"tier": "gold"}' in file.text
    assert '#   futureToken: "(sensitive)"' in file.text
    assert SECRET not in file.text
    assert "\nfutureRouting:" not in file.text
    assert file.unknown_fields == ("futureRouting", "futureToken")
