"""The adaptive gate apply writes through, alone (a fake clock: its own schedule, no
waiting) and in real runs against a rate-limited local registry (counts, no timings)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from registry_sync.apply.applier import EntryFinished, EntryResult, Outcome, Throttled, apply_plan
from registry_sync.cli import cli
from registry_sync.cli.commands.apply import _progress
from registry_sync.cli.progress import ProgressLine
from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.client import RegistryClient, RetryPolicy
from registry_sync.live.pacing import Pacer, RateMeter
from registry_sync.plan.model import Action, Plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.testing import RegistryServer, minimal_definition
from registry_sync.testing.__main__ import main as serve
from registry_sync.testing.ratelimit import TokenBucket

KEY = "sk-pacing-test-5c1b"


class FakeClock:
    """Time that moves only when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def pacer(parallelism: int, max_rps: float | None = None) -> tuple[Pacer, FakeClock]:
    clock = FakeClock()
    return Pacer(parallelism, max_rps=max_rps, clock=clock, sleep=clock.sleep), clock


# -- the gate alone ----------------------------------------------------------------------


def test_max_rps_spaces_the_starts_exactly() -> None:
    gate, _ = pacer(4, max_rps=20)
    starts = []
    for _ in range(10):
        started = gate.enter()
        starts.append(started)
        gate.leave(started, throttled=False)
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.05] * 9
    assert gate.rate == 20


def test_without_a_limit_nothing_waits() -> None:
    gate, clock = pacer(4)
    for _ in range(10):
        gate.leave(gate.enter(), throttled=False)
    assert clock.now == 100.0
    assert gate.rate is None
    assert gate.limit == 4


def test_a_429_halves_the_window_and_caps_the_rate_below_the_pace_sent() -> None:
    gate, clock = pacer(8)
    for _ in range(20):  # 20 requests in one second: 20/s
        gate.leave(gate.enter(), throttled=False)
        clock.now += 0.05
    started = gate.enter()
    gate.leave(started, throttled=True)
    assert gate.limit == 4
    assert gate.rate == pytest.approx(0.85 * 21)
    assert gate.cuts == 1


def test_429s_to_one_overshoot_cut_once() -> None:
    gate, clock = pacer(8)
    in_flight = [gate.enter() for _ in range(8)]
    clock.now += 0.02
    for started in in_flight:
        gate.leave(started, throttled=True)
    assert gate.cuts == 1
    assert gate.limit == 4
    # A request sent after the cut that is refused again cuts again.
    clock.now += 0.02
    gate.leave(gate.enter(), throttled=True)
    assert gate.cuts == 2
    assert gate.limit == 2


def test_successes_probe_back_up_but_never_past_the_parallelism_or_max_rps() -> None:
    gate, clock = pacer(8, max_rps=50)
    for _ in range(3):
        clock.now += 0.01
        gate.leave(gate.enter(), throttled=True)
    assert gate.limit == 1
    cut = gate.rate
    assert cut is not None and cut < 50
    for _ in range(2000):
        gate.leave(gate.enter(), throttled=False)
        clock.now += 0.01
    assert gate.limit == 8
    assert gate.rate == 50


def test_the_window_blocks_the_request_past_it_until_one_leaves() -> None:
    gate = Pacer(2)
    first, _second = gate.enter(), gate.enter()
    entered = threading.Event()

    def third() -> None:
        gate.enter()
        entered.set()

    thread = threading.Thread(target=third, daemon=True)
    thread.start()
    assert not entered.wait(0.1)
    gate.leave(first, throttled=False)
    assert entered.wait(5)
    thread.join(5)


def test_rate_meter_counts_the_last_window() -> None:
    clock = FakeClock()
    meter = RateMeter(2.0, clock)
    assert meter.rate() is None
    for _ in range(10):
        meter.add()
        clock.now += 0.1
    assert meter.rate(settled=True) is None  # one second so far
    assert meter.rate() == pytest.approx(10.0)
    for _ in range(30):
        meter.add()
        clock.now += 0.1
    assert meter.rate(settled=True) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("parallelism", "max_rps", "message"),
    [(0, None, "parallelism"), (1, 0.0, "max_rps"), (1, -5.0, "max_rps")],
)
def test_bad_settings_are_refused(parallelism: int, max_rps: float | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Pacer(parallelism, max_rps=max_rps)


# -- the local registry's token bucket --------------------------------------------------


def test_token_bucket_refuses_beyond_the_rate_with_a_whole_second_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, burst=2, clock=clock)
    assert [bucket.take() for _ in range(3)] == [None, None, "1"]
    clock.now += 0.25  # one token back
    assert bucket.take() is None
    assert bucket.take() == "1"
    assert bucket.refused == 2
    slow = TokenBucket(0.25, burst=1, clock=clock)
    assert slow.take() is None
    assert slow.take() == "4"
    assert TokenBucket(100).burst == 10


def test_the_server_answers_429_beyond_its_rate_limit() -> None:
    with (
        RegistryServer(api_key=KEY, rate_limit=1) as server,
        RegistryClient(
            server.url, KEY, retry=RetryPolicy(max_attempts=1), api="registry"
        ) as client,
    ):
        client.list_models()
        with pytest.raises(Exception, match="returned 429: rate limit exceeded"):
            client.list_models()
        assert server.bucket is not None and server.bucket.refused == 1


def test_the_server_command_refuses_a_rate_limit_that_is_not_positive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert serve(["--seed", "unused.json", "--rate-limit", "0"]) == 1
    assert "a rate limit must be positive" in capsys.readouterr().err


# -- real runs ----------------------------------------------------------------------------


class CountingServer(RegistryServer):
    """Records how many requests it is answering at once, at most."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.busy = 0
        self.most_busy = 0
        self.write_times: list[float] = []
        self._count_lock = threading.Lock()

    def _respond(self, method: str, raw_target: str, headers: Any, raw_body: bytes) -> Any:
        with self._count_lock:
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
            if method == "POST":
                self.write_times.append(time.monotonic())
        try:
            return super()._respond(method, raw_target, headers, raw_body)
        finally:
            with self._count_lock:
                self.busy -= 1


def creates(client: RegistryClient, count: int) -> Plan:
    bodies = [minimal_definition(f"pace:m-{n:03d}") for n in range(count)]
    desired = [DesiredDefinition(b["id"], b, f"{b['id']}.yaml", 1) for b in bodies]
    options = PlanOptions(registry=client.base_url)
    return build_plan(desired, client.list_models(), options)


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[RegistryServer, Any]]:
    """One run of 40 creates at --parallelism 8 against a registry allowing 40/s."""
    with (
        RegistryServer(api_key=KEY, rate_limit=40) as server,
        RegistryClient(server.url, KEY, connections=8, api="registry") as client,
    ):
        events: list[Any] = []
        result = apply_plan(creates(client, 40), client, parallelism=8, on_event=events.append)
        yield server, (result, events)


def test_a_rate_limited_run_converges_with_no_failed_write(
    limited: tuple[RegistryServer, Any],
) -> None:
    server, (result, _) = limited
    assert result.complete, [r.detail for r in result.results if r.outcome is not Outcome.DONE]
    assert result.count(Outcome.DONE, Action.CREATE) == 40
    assert len(server.entries()) == 40
    # The limit was hit (so the run had to adapt) and every 429 was absorbed.
    assert server.bucket is not None and server.bucket.refused > 0


def test_concurrency_never_exceeds_the_parallelism() -> None:
    server = CountingServer(api_key=KEY, latency=0.01)
    with server, RegistryClient(server.url, KEY, connections=3, api="registry") as client:
        result = apply_plan(creates(client, 30), client, parallelism=3)
    assert result.complete
    assert server.most_busy == 3


def test_max_rps_caps_the_rate_the_registry_sees() -> None:
    # Unpaced, 20 creates against an instant registry take a few milliseconds.
    server = CountingServer(api_key=KEY)
    with server, RegistryClient(server.url, KEY, connections=8, api="registry") as client:
        result = apply_plan(creates(client, 21), client, parallelism=8, max_rps=40)
    assert result.complete
    times = server.write_times
    assert len(times) == 21
    # The gate spaces the starts 25 ms apart: 20 gaps take 0.5 s; a generous margin.
    assert (len(times) - 1) / (times[-1] - times[0]) < 40 * 1.5


@pytest.mark.parametrize(("connections", "opened"), [(12, 12), (8, 12 + 4)])
def test_the_pool_keeps_a_connection_per_worker(connections: int, opened: int) -> None:
    # Two rounds of 12 requests at once: with 12 connections kept alive the second
    # round reuses the first round's; with fewer it must open the difference again.
    with (
        RegistryServer(api_key=KEY, latency=0.1) as server,
        RegistryClient(server.url, KEY, connections=connections, api="registry") as client,
    ):
        for _ in range(2):
            threads = [threading.Thread(target=client.list_models) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert server.connection_count == opened


def test_progress_notes_the_pace_once_there_is_one() -> None:
    runner = CliRunner()
    entry = EntryResult("pace:a", Action.CREATE, Outcome.DONE, "created")
    with runner.isolation() as (_, _, err):
        # Not on a terminal: the notes only, no count.
        report = _progress(ProgressLine("Applying", "writes", enabled=False))
        report(EntryFinished(entry, 1, 1))
        report(EntryFinished(entry, 1, 1, rate=84.6))
        report(Throttled(4, 12.34))
        report(Throttled(1))
        text = err.getvalue().decode()
    assert text == (
        "note: the registry keeps rate limiting; going on with 4 at a time, at most "
        "12.3 requests/s\n"
        "note: the registry keeps rate limiting; going on with 1 at a time\n"
    )


def test_apply_max_rps_flag_paces_the_writes(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for n in range(11):
        body = minimal_definition(f"pace:cli-{n:02d}")
        (models / f"cli-{n:02d}.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    server = CountingServer(api_key=KEY)
    with server:
        args = ["apply", "--auto-approve", "--models-dir", str(models), "--api-url", server.url]
        result = CliRunner().invoke(
            cli, [*args, "--parallelism", "8", "--max-rps", "20"], env={"MKA1_API_KEY": KEY}
        )
    assert result.exit_code == 0, result.output
    times = server.write_times
    assert len(times) == 11
    # 50 ms apart by the gate's schedule: 10 gaps take 0.5 s; a generous margin.
    assert (len(times) - 1) / (times[-1] - times[0]) < 20 * 1.5


@pytest.mark.parametrize("value", ["0", "-1", "fast"])
def test_max_rps_must_be_a_positive_number(value: str) -> None:
    result = CliRunner().invoke(cli, ["apply", "--max-rps", value])
    assert result.exit_code == 1
    assert "error: Invalid value for '--max-rps'" in result.stderr
