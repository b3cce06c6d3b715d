"""The hints of errors reaching the registry: host and setting, never URL or key."""

from __future__ import annotations

import pytest

from registry_sync.live.advice import Advice


def test_unreachable_names_the_host_not_the_url() -> None:
    hint = Advice(url_setting="--api-url").unreachable("https://user:pw@gw.example.com:8443/x")
    assert hint == (
        "is gw.example.com:8443 the registry's host, and reachable from here? The API URL "
        "comes from --api-url"
    )


@pytest.mark.parametrize(
    ("status", "method", "hinted"),
    [(401, "GET", True), (401, "PATCH", True), (403, "GET", True), (403, "PATCH", False)],
)
def test_only_a_refused_key_is_blamed_on_the_key(status: int, method: str, hinted: bool) -> None:
    # A 403 on a write is the server refusing that write (a read-only definition).
    hint = Advice().refused(status, method, "https://[::1]:9000")
    assert bool(hint) is hinted
    if hinted:
        assert hint.startswith("[::1]:9000 ")
        assert "in MKA1_API_KEY:" in hint


def test_other_statuses_have_no_hint() -> None:
    assert Advice().refused(404, "GET", "https://gw.example.com") == ""
    assert Advice().refused(500, "GET", "https://gw.example.com") == ""
