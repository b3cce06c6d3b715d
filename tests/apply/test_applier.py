"""The applier as a library: order, skips and events, against the local registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from registry_sync.apply.applier import (
    ApplyEvent,
    EntryFinished,
    Outcome,
    apply_plan,
)
from registry_sync.desired.loader import DesiredDefinition
from registry_sync.errors import ApplyRefused
from registry_sync.live.client import RegistryClient, RetryPolicy
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.model import Action, Plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.settings.ignore import IgnoreRule
from registry_sync.testing import Fault, RegistryServer, minimal_definition

KEY = "sk-applier-unit-9d2e"
API = "/api/v1/llm/models/registry"


def definition(model_id: str, *targets: str, **fields: Any) -> dict[str, Any]:
    body = minimal_definition(model_id, **fields)
    if targets:
        body["rerouteRules"] = [
            {"trigger": {"type": "error-fallback"}, "targetModelId": target} for target in targets
        ]
    return body


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(api_key=KEY) as running:
        yield running


@pytest.fixture
def client(server: RegistryServer) -> Iterator[RegistryClient]:
    # Retry-After "0" and no backoff: the faults below are answered at once.
    policy = RetryPolicy(initial_delay=0.0, jitter=0.0)
    with RegistryClient(server.url, KEY, retry=policy, api="registry") as registry:
        yield registry


def plan_for(
    client: RegistryClient, *bodies: dict[str, Any], prune: bool = False, ignore: Any = ()
) -> Plan:
    desired = [DesiredDefinition(body["id"], body, f"{body['id']}.yaml", 1) for body in bodies]
    options = PlanOptions(prune=prune, ignore=ignore, registry=client.base_url)
    return build_plan(desired, client.list_models(), options)


def seed(client: RegistryClient, *bodies: dict[str, Any]) -> None:
    for body in bodies:
        client.add_model(body)


def test_a_reference_cycle_is_applied_without_deadlock(
    client: RegistryClient, server: RegistryServer
) -> None:
    # Created together, and deleted together: A and B reroute to each other.
    seed(client, definition("old:a", "old:b"), definition("old:b", "old:a"), definition("keep"))
    plan = plan_for(
        client,
        definition("keep"),
        definition("new:a", "new:b"),
        definition("new:b", "new:a"),
        prune=True,
    )

    result = apply_plan(plan, client, parallelism=2)

    assert result.complete
    assert sorted(entry.id for entry in client.list_models()) == ["keep", "new:a", "new:b"]


def test_a_failure_skips_every_write_that_waits_for_it_transitively(
    client: RegistryClient, server: RegistryServer
) -> None:
    plan = plan_for(
        client,
        definition("chain:a", "chain:b"),
        definition("chain:b", "chain:c"),
        definition("chain:c"),
        definition("free"),
    )
    server.inject(Fault("status", method="POST", status=400))  # chain:c comes first

    result = apply_plan(plan, client, parallelism=1)

    assert [(r.id, r.outcome, r.detail) for r in result.results] == [
        (
            "chain:a",
            Outcome.SKIPPED,
            "waits for chain:b (it reroutes to chain:b), whose create was skipped",
        ),
        (
            "chain:b",
            Outcome.SKIPPED,
            "waits for chain:c (it reroutes to chain:c), whose create failed",
        ),
        (
            "chain:c",
            Outcome.FAILED,
            f"add registry model chain:c failed: POST {API} returned 400: Bad Request",
        ),
        ("free", Outcome.DONE, "created"),
    ]
    assert result.results[2].status == 400
    assert result.wrote
    assert not result.complete


def test_an_update_that_drops_a_reference_runs_before_the_delete_of_its_target(
    client: RegistryClient, server: RegistryServer
) -> None:
    seed(client, definition("router", "target"), definition("target"), definition("other"))
    plan = plan_for(client, definition("router", "other"), definition("other"), prune=True)
    assert [(c.id, c.action) for c in plan.writes] == [
        ("router", Action.UPDATE),
        ("target", Action.DELETE),
    ]
    server.clear_requests()

    result = apply_plan(plan, client, parallelism=8)

    assert result.complete
    assert [r.method for r in server.requests() if r.method != "GET"] == ["PATCH", "DELETE"]


def test_events_report_every_write_and_results_come_in_plan_order(
    client: RegistryClient, server: RegistryServer
) -> None:
    server.latency = 0.005
    bodies = [definition(f"m:{n:02d}") for n in range(10)]
    plan = plan_for(client, *bodies)
    # Some POSTs are rate limited and retried, so the writes finish out of order.
    server.inject(Fault("rate-limit", method="POST", times=6, retry_after="0"))
    events: list[ApplyEvent] = []

    result = apply_plan(plan, client, parallelism=4, on_event=events.append)

    assert result.complete
    assert [r.id for r in result.results] == [f"m:{n:02d}" for n in range(10)]
    finished = [e for e in events if isinstance(e, EntryFinished)]
    assert [e.done for e in finished] == list(range(1, 11))
    assert {e.total for e in finished} == {10}


@pytest.mark.parametrize(("rewritten", "converged"), [("hidden", True), ("rpm", False)])
def test_the_final_check_compares_as_the_planner_does(rewritten: str, converged: bool) -> None:
    # The server rewrites a field right after the create, as a real one might. With
    # that field ignored for the id the entry has converged; otherwise it has not.
    rule = IgnoreRule("svc:*", ("hidden",))
    rewrites: list[str] = []

    def rewrite(line: str) -> None:
        if line.startswith(f"POST {API} ") and not rewrites:
            rewrites.append(line)
            with RegistryClient(running.url, KEY, api="registry") as other:
                other.update_model("svc:a", {rewritten: 7 if rewritten == "rpm" else False})

    with (
        RegistryServer(api_key=KEY, log=rewrite) as running,
        RegistryClient(running.url, KEY, api="registry") as client,
    ):
        plan = plan_for(client, definition("svc:a", rpm=1, hidden=True), ignore=(rule,))

        result = apply_plan(plan, client, ignore=(rule,))

    assert rewrites
    assert result.complete is converged
    if not converged:
        assert "re-reading the registry afterwards shows it differs" in result.results[0].detail


def test_a_conflict_or_a_stale_plan_is_refused_before_any_write(
    client: RegistryClient, server: RegistryServer
) -> None:
    seed(client, definition("x"))
    plan = plan_for(client, definition("x", contextWindow=5), definition("y"))
    client.update_model("x", {"contextWindow": 6})
    server.clear_requests()

    with pytest.raises(ApplyRefused, match="x: changed since the plan was made"):
        apply_plan(plan, client)

    assert [r.method for r in server.requests()] == ["GET"]


def test_parallelism_must_be_positive(client: RegistryClient) -> None:
    with pytest.raises(ValueError, match="parallelism"):
        apply_plan(plan_for(client), client, parallelism=0)


def test_an_immutable_entry_is_never_written(client: RegistryClient) -> None:
    immutable = LiveEntry("sys", True, "yaml", definition("sys"))
    plan = build_plan(
        [DesiredDefinition("sys", definition("sys", hidden=True), "sys.yaml", 1)],
        [immutable],
        PlanOptions(),
    )

    with pytest.raises(ApplyRefused, match="sys is immutable on the server"):
        apply_plan(plan, client)
