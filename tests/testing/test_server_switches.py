"""The local server's fault switches on its command line, mapped onto Fault."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from paths import EXAMPLE_REGISTRY

from registry_sync.testing import RegistryServer
from registry_sync.testing.__main__ import (
    EXAMPLE_SEED,
    describe_fault,
    fault_from_args,
    seed_path,
)
from registry_sync.testing.__main__ import main as serve
from registry_sync.testing.server import API_PREFIX, Fault

KEY = "sk-switches-9d1e"


def args(**given: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "fail_status": None,
        "drop": False,
        "malformed": False,
        "fail_every": 1,
        "fail_method": None,
        "fail_times": None,
        "retry_after": None,
    }
    values.update(given)
    return argparse.Namespace(**values)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, None),
        (
            {"fail_status": 503, "fail_every": 3},
            Fault("status", status=503, times=None, every=3),
        ),
        (
            {"fail_status": 429, "retry_after": "2"},
            Fault("rate-limit", retry_after="2", times=None),
        ),
        ({"fail_status": 429}, Fault("rate-limit", retry_after="1", times=None)),
        (
            {"drop": True, "fail_method": "PATCH", "fail_times": 2},
            Fault("drop", method="PATCH", times=2),
        ),
        ({"malformed": True, "fail_every": 2}, Fault("malformed", times=None, every=2)),
    ],
)
def test_switches_map_onto_a_fault(given: dict[str, object], expected: Fault | None) -> None:
    assert fault_from_args(args(**given)) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"drop": True, "malformed": True}, "--drop and --malformed cannot be combined"),
        ({"fail_every": 3}, "--fail-every needs a kind of fault"),
        ({"retry_after": "2"}, "--retry-after needs a kind of fault"),
        ({"fail_status": 503, "retry_after": "2"}, "--retry-after goes with --fail-status 429"),
        ({"fail_status": 200}, "--fail-status 200 is not an error status"),
        ({"drop": True, "fail_every": 0}, "--fail-every must be 1 or more"),
        ({"drop": True, "fail_times": 0}, "--fail-times must be 1 or more"),
    ],
)
def test_wrong_switches_are_refused(given: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fault_from_args(args(**given))


def test_the_command_refuses_wrong_switches(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(["--seed", "unused.json", "--drop", "--fail-status", "503"]) == 1
    assert "error: --fail-status and --drop cannot be combined" in capsys.readouterr().err


def test_describe_fault_reads_as_a_sentence() -> None:
    assert describe_fault(Fault("status", status=503, times=None, every=3)) == (
        "status 503 for every 3rd request"
    )
    assert describe_fault(Fault("drop", method="PATCH", times=2)) == (
        "dropped connection for every PATCH request, 2 times at most"
    )


def test_every_nth_matching_request_fails() -> None:
    fault = Fault("status", status=503, times=None, every=3, method="GET")
    with RegistryServer(api_key=KEY) as server:
        server.inject(fault)
        headers = {"Authorization": f"Bearer {KEY}"}
        statuses = [
            httpx.get(f"{server.url}{API_PREFIX}", headers=headers).status_code for _ in range(7)
        ]
    assert statuses == [200, 200, 503, 200, 200, 503, 200]


def test_the_command_line_serves_the_fault(tmp_path: Path) -> None:
    seed = tmp_path / "registry.json"
    seed.write_text('{"object": "list", "data": []}')
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_sync.testing",
            "--seed",
            str(seed),
            "--api-key",
            KEY,
            "--fail-every",
            "2",
            "--fail-status",
            "429",
            "--retry-after",
            "7",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        url = first.split("listening on ", 1)[1].split(" ", 1)[0]
        assert child.stdout.readline() == "faults: 429 with Retry-After: 7 for every 2nd request\n"
        headers = {"Authorization": f"Bearer {KEY}"}
        answers = [httpx.get(f"{url}{API_PREFIX}", headers=headers) for _ in range(2)]
    finally:
        child.terminate()
        child.wait(timeout=10)
    assert [answer.status_code for answer in answers] == [200, 429]
    assert answers[1].headers["Retry-After"] == "7"


def test_the_example_seed_is_the_example_registry_of_the_checkout() -> None:
    # One file: the package's copy is a link to examples/registry.json.
    assert EXAMPLE_SEED.read_bytes() == EXAMPLE_REGISTRY.read_bytes()
    assert seed_path("example") == str(EXAMPLE_SEED)
    assert seed_path(None) is None
    assert seed_path("mine.json") == "mine.json"


def test_the_example_seed_belongs_to_the_registry_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(["--seed", "example", "--api", "catalog"]) == 1
    assert "error: --seed example is a registry of the registry API" in capsys.readouterr().err
