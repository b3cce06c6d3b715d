"""A saved plan read for `show`: its judgement (risk, violations, reroute rules) read
back as saved, checked, and bound to no registry; `apply`'s reader still ignores it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from registry_sync.errors import PlanFileError
from registry_sync.plan.document import plan_document, render_json
from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan, Risk
from registry_sync.plan.planfile import read_plan, read_saved_plan
from registry_sync.plan.policy import Rules, SafetyRails, judge
from registry_sync.schema.reroutes import RerouteEdge

REGISTRY = "https://apigw.example.com"
RULE = {"trigger": {"type": "error-fallback"}, "targetModelId": "m:chat"}


def judged_plan() -> Plan:
    """A plan judged as `plan` judges it: a breaking auth change with an overlay's
    origin, a delete over --max-deletes, and a reroute rule added."""
    plan = Plan(
        changes=(
            Change(
                "m:chat",
                Action.UPDATE,
                "1 top-level field differs",
                file="models/chat.yaml",
                line=1,
                changes=(
                    FieldChange("auth.envVar", ChangeKind.ADDED, None, "K", "overlays/p/c.yaml:3"),
                    FieldChange("auth.value", ChangeKind.REMOVED, "(sensitive)", None),
                ),
                patch={"auth": {"type": "api-key", "envVar": "K"}},
                live_fingerprint="sha256:aa",
            ),
            Change(
                "m:new",
                Action.CREATE,
                "not in the registry",
                file="models/new.yaml",
                line=1,
                body={"id": "m:new", "rerouteRules": [RULE]},
            ),
            Change("m:old", Action.DELETE, "not declared", live_fingerprint="sha256:cc"),
        ),
        models_dir="models",
        registry=REGISTRY,
        prune=True,
        environment="prod",
        environment_api_url="https://prod.example.com",
    )
    live = {"m:chat": {"id": "m:chat"}, "m:old": {"id": "m:old"}}
    return judge(plan, Rules(rails=SafetyRails(max_deletes=0)), live)


def saved(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_saved_plan_reads_back_with_its_judgement_bound_to_no_registry(
    tmp_path: Path,
) -> None:
    plan = judged_plan()
    assert plan.violations and plan.reroutes  # the example judges something
    assert plan.changes[0].risk is Risk.BREAKING

    assert read_saved_plan(saved(tmp_path, plan_document(plan))) == plan


def test_apply_reads_the_same_file_without_its_judgement(tmp_path: Path) -> None:
    plan = judged_plan()
    path = saved(tmp_path, plan_document(plan))

    for_apply = read_plan(path, registry=REGISTRY, environment="prod")

    assert for_apply.violations == () and for_apply.reroutes == ()
    assert all(change.risk is Risk.SAFE for change in for_apply.changes)
    assert for_apply.changes[0].changes == plan.changes[0].changes  # origins included


def test_a_plan_without_reroutes_has_no_reroutes_key() -> None:
    plan = dataclasses.replace(judged_plan(), reroutes=())

    assert "reroutes" not in plan_document(plan)
    assert plan_document(judged_plan())["reroutes"] == [
        {"source": "m:new", "target": "m:chat", "trigger": "error-fallback", "status": "added"}
    ]
    assert RerouteEdge("m:new", "m:chat", "error-fallback", "added") in judged_plan().reroutes


def _action(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        document["actions"][0][key] = value

    return edit


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        document[key] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (_action("risk", "scary"), "actions[0].risk: unknown risk class 'scary'"),
        (_action("risk", "safe"), "summary.risk: does not match the actions"),
        (_action("risk_reasons", [1]), "actions[0].risk_reasons: expected a list of reasons"),
        (_top("violations", [{"rule": "protect", "message": "x"}]), "violations[0].id: missing"),
        (_top("violations", [{"rule": 1, "id": None, "message": "x"}]), "violations[0].rule"),
        (_top("violations", None), "violations: expected a list"),
        (
            _top("reroutes", [{"source": "a", "target": "b", "trigger": "t", "status": "gone"}]),
            "reroutes[0].status: unknown status 'gone'",
        ),
        (_top("reroutes", [{"source": "a"}]), "reroutes[0].status: missing"),
    ],
)
def test_a_corrupt_judgement_is_refused_with_where(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], where: str
) -> None:
    document = json.loads(render_json(judged_plan()))
    edit(document)

    with pytest.raises(PlanFileError, match=r"^plan file .* is corrupt: ") as caught:
        read_saved_plan(saved(tmp_path, document))

    assert where in str(caught.value)
