"""Saved plans: what `plan --out` writes reads back as the same plan, and nothing else does."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from registry_sync.errors import PlanFileError
from registry_sync.plan.document import render_json
from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.plan.planfile import read_plan

REGISTRY = "https://apigw.example.com"


def sample_plan() -> Plan:
    body = {"id": "m:new", "provider": "openai-compatible", "created": 1, "hidden": False}
    return Plan(
        changes=(
            Change(
                "m:chat",
                Action.UPDATE,
                "1 top-level field differs",
                file="models/chat.yaml",
                line=3,
                changes=(
                    FieldChange("contextWindow", ChangeKind.CHANGED, 8192, 16384),
                    FieldChange("rpm", ChangeKind.REMOVED, 60, None),
                ),
                patch={"contextWindow": 16384, "rpm": None},
                live_fingerprint="sha256:aa",
            ),
            Change(
                "m:embed",
                Action.REPLACE,
                "--replace asks to delete and re-create it",
                file="models/embed.yaml",
                line=1,
                body={"id": "m:embed", "provider": "openai", "created": 1},
                live_fingerprint="sha256:bb",
            ),
            Change("m:new", Action.CREATE, "not in the registry", "models/new.yaml", 1, body=body),
            Change("m:old", Action.DELETE, "not declared", live_fingerprint="sha256:cc"),
            Change("m:same", Action.NO_OP, "in sync", file="models/same.yaml", line=1),
            Change("m:stray", Action.UNMANAGED, "not declared in models/"),
            Change(
                "m:sys",
                Action.READ_ONLY,
                "immutable on the server",
                file="models/sys.yaml",
                line=1,
                changes=(FieldChange("auth.value", ChangeKind.REMOVED, "(sensitive)", None),),
                live_fingerprint="sha256:dd",
                conflict=True,
            ),
        ),
        models_dir="models",
        registry=REGISTRY,
        prune=True,
        immutable_undeclared=2,
    )


def saved(tmp_path: Path, plan: Plan) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(render_json(plan), encoding="utf-8")
    return path


def test_a_saved_plan_reads_back_as_the_same_plan(tmp_path: Path) -> None:
    plan = sample_plan()

    assert read_plan(saved(tmp_path, plan), registry=REGISTRY) == plan


def test_a_saved_partial_plan_reads_back_partial(tmp_path: Path) -> None:
    plan = dataclasses.replace(sample_plan(), targets=("m:*", "x:y"), untargeted=3)

    assert read_plan(saved(tmp_path, plan), registry=REGISTRY) == plan


def test_a_plan_without_target_fields_reads_as_a_full_plan(tmp_path: Path) -> None:
    document = json.loads(render_json(sample_plan()))
    for key in ("partial", "targets", "untargeted"):
        del document[key]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    assert read_plan(path, registry=REGISTRY) == sample_plan()


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        document[key] = value

    return edit


def test_a_plan_for_another_registry_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path, sample_plan())

    with pytest.raises(PlanFileError) as caught:
        read_plan(path, registry="http://127.0.0.1:8080")

    assert str(caught.value) == (
        f"plan file {path} was made for the registry {REGISTRY}, not http://127.0.0.1:8080; "
        "apply it with the --api-url it was planned against, or plan again for this one"
    )


def _action(document: dict[str, Any], model_id: str) -> dict[str, Any]:
    return next(a for a in document["actions"] if a["id"] == model_id)


def _set(model_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        _action(document, model_id)[key] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        del document[key]

    return edit


def _repeat(document: dict[str, Any]) -> None:
    document["actions"].append(dict(document["actions"][0]))


def _secret_header(document: dict[str, Any]) -> None:
    headers = {"type": "custom-headers", "headers": {"Authorization": "Bearer abc"}}
    _action(document, "m:new")["body"]["auth"] = headers


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("m:new", "action", "upsert"), "actions[2].action: unknown action 'upsert'"),
        (_set("m:new", "body", None), "actions[2].body: a create needs the definition to send"),
        (_set("m:new", "body", {"id": "m:other"}), "actions[2].body.id: differs from the entry"),
        (_set("m:chat", "patch", {"id": "x"}), "actions[0].patch: an update needs the fields"),
        (
            _set("m:chat", "patch", {"provider": None}),
            "actions[0].patch.provider: null, but the API cannot clear this field",
        ),
        (_set("m:old", "live_fingerprint", None), "actions[3].live_fingerprint: a delete needs"),
        (_set("m:chat", "line", True), "actions[0].line: expected an integer"),
        (_set("m:chat", "changes", [{"path": "x"}]), "actions[0].changes[0].kind: missing"),
        (_set("m:new", "conflict", "no"), "actions[2].conflict: expected true or false"),
        (_secret_header, "actions[2].body: holds a secret, which models/ never does"),
        (_repeat, "actions[7].id: 'm:chat' appears twice"),
        (_set("m:old", "action", "no-op"), "summary: does not match the actions"),
        (_drop("actions"), "actions: missing"),
        (_drop("registry"), "registry: missing"),
        (_top("targets", ["m:*", ""]), "targets: expected a list of --target patterns"),
        (_top("targets", "m:*"), "targets: expected"),
        (_top("untargeted", -1), "untargeted: expected a count"),
        (_top("untargeted", True), "untargeted: expected a count"),
    ],
)
def test_a_corrupt_plan_is_refused_with_where(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = json.loads(render_json(sample_plan()))
    edit(document)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(PlanFileError) as caught:
        read_plan(path, registry=REGISTRY)

    text = str(caught.value)
    assert text.startswith(f"plan file {path} is corrupt: {message}")
    assert text.endswith("make a new one with `registry-sync plan --out FILE`")
    assert "Bearer abc" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format_version": "2", "actions": [', "is corrupt: not valid JSON at line 1"),
        (b'{"format_version": 2}', "has format_version 2, which this registry-sync cannot read"),
        (b'{"format_version": "1"}', 'has format_version "1", which this registry-sync'),
        (b'{"format_version": "0.9"}', 'has format_version "0.9", which this registry-sync'),
        (b"[]", "is not a registry-sync plan (a JSON object with a format_version)"),
        (b'{"object": "list", "data": []}', "is not a registry-sync plan"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (
            b'{"format_version": "1", "environments": []}',
            "holds the plans of several environments (plan --env with more than one): "
            "apply reads one environment's plan; save each with plan --env NAME --out FILE",
        ),
    ],
    ids=[
        "truncated",
        "number-version",
        "version-1",
        "unknown-version",
        "array",
        "list-response",
        "binary",
        "environments",
    ],
)
def test_a_file_that_is_no_plan_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)

    with pytest.raises(PlanFileError, match=r"plan file \S+ " + re.escape(message)):
        read_plan(path, registry=REGISTRY)


def test_a_missing_plan_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"plan file .*plan\.json does not exist"):
        read_plan(tmp_path / "plan.json", registry=REGISTRY)
