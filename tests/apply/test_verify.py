"""Health-verified apply against the local registry: probes, reports, rollbacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from meetkai_mka1.models import UpdateRegistryModelRequest

from registry_sync.apply.applier import ApplyResult, EntryResult, Outcome, apply_plan
from registry_sync.apply.health import (
    EntryHealth,
    HealthReport,
    HealthState,
    Rollback,
    revert_patch,
    verify_apply,
)
from registry_sync.desired.loader import DesiredDefinition
from registry_sync.live.client import RegistryClient, RetryPolicy
from registry_sync.live.entries import LiveEntry
from registry_sync.operations.apply import apply_exit_code
from registry_sync.plan.model import Action, Plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.testing import Fault, RegistryServer, minimal_definition, registry_model

KEY = "sk-verify-unit-51c0"
UPDATED = "meetkai:updated"
CREATED = "meetkai:created"
REPLACED = "meetkai:replaced"
FINE = "meetkai:fine"


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(api_key=KEY) as running:
        yield running


@pytest.fixture
def client(server: RegistryServer) -> Iterator[RegistryClient]:
    policy = RetryPolicy(initial_delay=0.0, jitter=0.0)
    with RegistryClient(server.url, KEY, retry=policy, api="registry") as registry:
        yield registry


def plan_for(
    client: RegistryClient, *bodies: dict[str, Any], replace: frozenset[str] = frozenset()
) -> Plan:
    desired = [DesiredDefinition(body["id"], body, f"{body['id']}.yaml", 1) for body in bodies]
    options = PlanOptions(registry=client.base_url, replace=replace)
    return build_plan(desired, client.list_models(), options)


def live(client: RegistryClient) -> dict[str, LiveEntry]:
    return {entry.id: entry for entry in client.list_models()}


def seed(client: RegistryClient) -> None:
    client.add_model(
        minimal_definition(
            UPDATED, rpm=60, auth={"type": "api-key", "envVar": "K", "value": "sk-inline-secret-77"}
        )
    )
    client.add_model(minimal_definition(REPLACED, created=1_600_000_000, displayName="Old"))
    client.add_model(minimal_definition(FINE, rpm=10))


def test_unhealthy_entries_are_rolled_back_and_healthy_ones_stay_applied(
    server: RegistryServer, client: RegistryClient
) -> None:
    seed(client)
    before = live(client)
    for model_id in (UPDATED, CREATED, REPLACED):
        server.set_unhealthy(model_id, f"{model_id} answered 502")
    plan = plan_for(
        client,
        minimal_definition(UPDATED, rpm=120, baseUrl="https://wrong.example.com"),
        minimal_definition(CREATED),
        minimal_definition(REPLACED, displayName="New"),
        minimal_definition(FINE, rpm=20),
        replace=frozenset({REPLACED}),
    )
    assert {c.id: c.action for c in plan.writes}[REPLACED] is Action.REPLACE

    result = apply_plan(plan, client)
    report = verify_apply(result, client, rollback=True)
    after = live(client)

    assert {e.id: (e.state, e.error) for e in report.entries} == {
        CREATED: (HealthState.UNHEALTHY, f"{CREATED} answered 502"),
        FINE: (HealthState.HEALTHY, None),
        REPLACED: (HealthState.UNHEALTHY, f"{REPLACED} answered 502"),
        UPDATED: (HealthState.UNHEALTHY, f"{UPDATED} answered 502"),
    }
    assert {e.id: e.rollback for e in report.entries} == {
        CREATED: Rollback("delete", True, "deleted"),
        FINE: None,
        REPLACED: Rollback("re-create", True, "restored"),
        UPDATED: Rollback("patch", True, "restored"),
    }
    assert not report.rollback_failed
    assert CREATED not in after
    assert after[UPDATED].definition == before[UPDATED].definition
    assert after[REPLACED].definition == before[REPLACED].definition
    assert after[REPLACED].definition["created"] == 1_600_000_000
    assert after[FINE].definition["rpm"] == 20
    patches = [r.body for r in server.requests("PATCH") if r.path.endswith(UPDATED)]
    sdk = UpdateRegistryModelRequest.model_validate(patches[-1], by_alias=True)
    assert sdk.model_dump(by_alias=True, exclude_unset=True) == patches[-1]
    # The inline secret comes back from the live entry read before the write.
    assert patches[-1] == {
        "rpm": 60,
        "baseUrl": None,
        "auth": {"type": "api-key", "envVar": "K", "value": "sk-inline-secret-77"},
    }


def test_without_rollback_unhealthy_entries_are_only_reported(
    server: RegistryServer, client: RegistryClient
) -> None:
    seed(client)
    server.set_unhealthy(UPDATED, "key variable K is not set")
    result = apply_plan(plan_for(client, minimal_definition(UPDATED, rpm=1)), client)

    report = verify_apply(result, client)

    assert report.entries == (
        EntryHealth(
            UPDATED,
            Action.UPDATE,
            HealthState.UNHEALTHY,
            "key variable K is not set",
            report.entries[0].checked_at,
        ),
    )
    assert live(client)[UPDATED].definition["rpm"] == 1


def test_a_probe_that_fails_or_a_write_that_failed_is_not_probed(
    server: RegistryServer, client: RegistryClient
) -> None:
    seed(client)
    server.inject(Fault("status", method="POST", path_contains="/health", status=400))
    server.inject(Fault("status", method="PATCH", path_contains=FINE, status=400))
    plan = plan_for(client, minimal_definition(UPDATED, rpm=1), minimal_definition(FINE, rpm=2))

    report = verify_apply(apply_plan(plan, client), client, rollback=True)

    states = {e.id: (e.state, e.rollback) for e in report.entries}
    assert states == {
        FINE: (HealthState.NOT_PROBED, None),
        UPDATED: (HealthState.NOT_PROBED, None),
    }
    reasons = {e.id: e.error or "" for e in report.entries}
    assert reasons[FINE] == "its update did not finish (failed)"
    assert reasons[UPDATED].startswith("the probe failed: check health of registry model")


def test_a_re_create_whose_old_definition_the_api_would_refuse_is_not_deleted(
    server: RegistryServer, client: RegistryClient
) -> None:
    seed(client)
    server.set_unhealthy(REPLACED)
    plan = plan_for(
        client, minimal_definition(REPLACED, displayName="New"), replace=frozenset({REPLACED})
    )
    result = apply_plan(plan, client)
    old = result.before[REPLACED]
    broken = LiveEntry(old.id, old.immutable, old.source, {**old.definition, "apiFormat": 3})
    damaged = type(result)(result.registry, result.results, before={REPLACED: broken})

    report = verify_apply(damaged, client, rollback=True)

    rollback = report.entries[0].rollback
    assert rollback is not None and not rollback.succeeded
    assert rollback.detail.startswith("the previous definition cannot be POSTed again (apiFormat")
    assert live(client)[REPLACED].definition["displayName"] == "New"
    assert report.rollback_failed


def test_an_update_that_added_a_field_the_api_cannot_clear_is_not_rolled_back(
    server: RegistryServer, client: RegistryClient
) -> None:
    body = minimal_definition(UPDATED)
    del body["apiProviderType"]
    server.stop()
    with (
        RegistryServer(
            {"object": "list", "data": [registry_model(body)]},
            api_key=KEY,
            unhealthy={UPDATED: "down"},
        ) as other,
        RegistryClient(other.url, KEY, api="registry") as registry,
    ):
        plan = plan_for(registry, minimal_definition(UPDATED))
        report = verify_apply(apply_plan(plan, registry), registry, rollback=True)

    rollback = report.entries[0].rollback
    assert rollback == Rollback(
        "patch", False, "the API cannot clear apiProviderType: fix it by hand"
    )


def test_revert_patch_sets_previous_values_and_nulls_what_was_added() -> None:
    assert revert_patch({"rpm": 1, "baseUrl": "x", "id": "a"}, {"rpm": 60}) == {
        "rpm": 60,
        "baseUrl": None,
    }


@pytest.mark.parametrize(
    ("outcomes", "unhealthy", "code"),
    [
        ((Outcome.DONE,), False, 0),
        ((Outcome.DONE,), True, 4),
        ((Outcome.DONE, Outcome.FAILED), True, 3),
        ((Outcome.FAILED,), False, 1),
    ],
)
def test_apply_exit_code_is_4_only_when_every_write_is_done(
    outcomes: tuple[Outcome, ...], unhealthy: bool, code: int
) -> None:
    results = tuple(
        EntryResult(f"m:{n}", Action.UPDATE, outcome, "", wrote=outcome is Outcome.DONE)
        for n, outcome in enumerate(outcomes)
    )
    state = HealthState.UNHEALTHY if unhealthy else HealthState.HEALTHY
    health = HealthReport((EntryHealth("m:0", Action.UPDATE, state),))

    assert apply_exit_code(ApplyResult("r", results), health) == code


def test_a_create_another_entry_reroutes_to_is_not_deleted(
    server: RegistryServer, client: RegistryClient
) -> None:
    seed(client)
    server.set_unhealthy(CREATED, "down")
    fallback = [{"trigger": {"type": "error-fallback"}, "targetModelId": CREATED}]
    plan = plan_for(
        client, minimal_definition(CREATED), minimal_definition(FINE, rerouteRules=fallback)
    )

    report = verify_apply(apply_plan(plan, client), client, rollback=True)

    rollbacks = {e.id: e.rollback for e in report.entries}
    assert rollbacks == {
        CREATED: Rollback(
            "delete",
            False,
            f"not deleted: {FINE} reroutes to it; change that first, or fix this entry",
        ),
        FINE: None,
    }
    assert CREATED in live(client)
