"""A saved plan (``plan --out FILE``) read back into a :class:`Plan` for ``apply FILE``
(:func:`read_plan`), or with its saved judgement for ``show FILE`` (:func:`read_saved_plan`).

The file is the JSON plan document of :mod:`registry_sync.plan.document`. It is applied
exactly as reviewed, so it is checked strictly: anything that is not a well-formed
plan of a known ``format_version`` for the registry being applied to is refused
with :class:`PlanFileError`, before anything is sent. Bodies and patches holding a
secret are refused too: the plan is printed, and its bodies may be printed to
restore an entry.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry_sync.errors import PlanFileError, ResponseShapeError
from registry_sync.live.entries import LiveHealth, parse_health
from registry_sync.plan.document import FORMAT_VERSION
from registry_sync.plan.model import (
    Action,
    Change,
    ChangeKind,
    FieldChange,
    Plan,
    Risk,
    Violation,
)
from registry_sync.schema.fields import nullable_fields
from registry_sync.schema.generations import APIS
from registry_sync.schema.reroutes import RerouteEdge
from registry_sync.schema.secrets import secret_paths

__all__ = ["check_generation", "read_plan", "read_saved_plan"]

# What either generation can clear with a PATCH null: which applies is the API's to say.
_NULLABLE = nullable_fields("registry") | nullable_fields("catalog")

_ACTIONS = {action.value: action for action in Action}
_KINDS = {kind.value: kind for kind in ChangeKind}
_RISKS = {risk.value: risk for risk in Risk}
_EDGE_STATUSES = frozenset({"added", "removed", "kept"})
# Actions computed from a live entry, whose fingerprint apply compares.
_FINGERPRINTED = frozenset(
    {Action.UPDATE, Action.REPLACE, Action.DELETE, Action.ACTIVATE, Action.DEACTIVATE}
)
_SOURCES = frozenset({"byo", "serving", "cluster"})
_AGAIN = "make a new one with `registry-sync plan --out FILE`"


class _Corrupt(Exception):
    """Where in the document, and what is wrong; becomes a PlanFileError."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}" if where else what)


def read_plan(path: Path, *, registry: str, environment: str | None = None) -> Plan:
    """The plan saved in ``path``, which must have been made for ``registry`` (as
    :meth:`LiveSource.describe` names it) and for ``environment`` (None: made without
    one). Raises :class:`PlanFileError` otherwise. Its saved judgement is not read:
    apply judges it again."""
    plan = _read(path, judged=False)
    if plan.environment != environment:
        made = "no environment" if plan.environment is None else f"environment {plan.environment}"
        wanted = "without --env" if environment is None else f"with --env {environment}"
        raise PlanFileError(
            f"plan file {path} was made for {made}, not applied {wanted}; apply it with the "
            "--env it was planned for, or plan again for this environment"
        )
    if plan.registry != registry:
        raise PlanFileError(
            f"plan file {path} was made for the registry {plan.registry}, not {registry}; "
            "apply it with the --api-url it was planned against, or plan again for this one"
        )
    return plan


def read_saved_plan(path: Path) -> Plan:
    """The plan saved in ``path`` as it was when made, judgement included (each
    change's risk and reasons, the violations, the reroute rules it touches), bound
    to no registry or environment: for showing it offline. Every other check of
    :func:`read_plan` is made, and the saved risk must agree with the saved summary.
    Raises :class:`PlanFileError`. Never apply what it returns: apply judges again."""
    return _read(path, judged=True)


def _read(path: Path, *, judged: bool) -> Plan:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PlanFileError(f"plan file {path} does not exist") from None
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise PlanFileError(f"plan file {path} is not UTF-8 text; {_AGAIN}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"plan file {path} is corrupt: not valid JSON at line {exc.lineno} ({exc.msg}); "
            f"{_AGAIN}"
        ) from None
    except RecursionError:
        raise PlanFileError(
            f"plan file {path} is corrupt: its JSON is nested too deeply; {_AGAIN}"
        ) from None
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanFileError(
            f"plan file {path} is not a registry-sync plan (a JSON object with a "
            f"format_version); {_AGAIN}"
        )
    version = document["format_version"]
    if isinstance(document.get("environments"), list):
        raise PlanFileError(
            f"plan file {path} holds the plans of several environments (plan --env with "
            "more than one): apply reads one environment's plan; save each with "
            "plan --env NAME --out FILE"
        )
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"plan file {path} has format_version {json.dumps(version)}, which this "
            f"registry-sync cannot read (it reads {json.dumps(FORMAT_VERSION)}); "
            "make and apply plans with the same version of registry-sync"
        )
    try:
        plan = _plan(document)
        return _with_judgement(plan, document) if judged else plan
    except _Corrupt as exc:
        raise PlanFileError(f"plan file {path} is corrupt: {exc}; {_AGAIN}") from None


def _with_judgement(plan: Plan, top: Mapping[str, Any]) -> Plan:
    """``plan`` with the judgement saved beside it in ``top``."""
    actions = top["actions"]
    by_id = {}
    for index, item in enumerate(actions):
        where = f"actions[{index}]"
        name = _field(item, "risk", str, where)
        if name not in _RISKS:
            raise _Corrupt(f"{where}.risk", f"unknown risk class {name!r}")
        reasons = _field(item, "risk_reasons", list, where)
        if not all(isinstance(reason, str) for reason in reasons):
            raise _Corrupt(f"{where}.risk_reasons", "expected a list of reasons")
        by_id[item["id"]] = (_RISKS[name], tuple(reasons))
    changes = tuple(
        dataclasses.replace(change, risk=by_id[change.id][0], risk_reasons=by_id[change.id][1])
        for change in plan.changes
    )
    judged = dataclasses.replace(
        plan,
        changes=changes,
        violations=tuple(
            _violation(item, f"violations[{index}]")
            for index, item in enumerate(_field(top, "violations", list, ""))
        ),
        reroutes=tuple(
            _edge(item, f"reroutes[{index}]")
            for index, item in enumerate(_optional(top, "reroutes", list, "") or [])
        ),
    )
    if judged.risk_counts() != top["summary"].get("risk"):
        raise _Corrupt("summary.risk", "does not match the actions")
    return judged


def _violation(item: object, where: str) -> Violation:
    data = _object(item, where)
    if "id" not in data:
        raise _Corrupt(f"{where}.id", "missing")
    return Violation(
        rule=_field(data, "rule", str, where),
        id=_optional(data, "id", str, where),
        message=_field(data, "message", str, where),
    )


def _edge(item: object, where: str) -> RerouteEdge:
    data = _object(item, where)
    status = _field(data, "status", str, where)
    if status not in _EDGE_STATUSES:
        raise _Corrupt(f"{where}.status", f"unknown status {status!r}")
    return RerouteEdge(
        source=_field(data, "source", str, where),
        target=_field(data, "target", str, where),
        trigger=_field(data, "trigger", str, where),
        status=status,
    )


def _plan(top: Mapping[str, Any]) -> Plan:
    actions = _field(top, "actions", list, "")
    changes = tuple(_change(item, f"actions[{index}]") for index, item in enumerate(actions))
    seen: set[str] = set()
    for index, change in enumerate(changes):
        if change.id in seen:
            raise _Corrupt(f"actions[{index}].id", f"{change.id!r} appears twice")
        seen.add(change.id)
    # Risk and violations are judged again at apply, never read from the file.
    summary: dict[str, Any] = {
        key: value for key, value in _field(top, "summary", dict, "").items() if key != "risk"
    }
    immutable_undeclared: Any = summary.get("immutable-undeclared")
    if not _is_int(immutable_undeclared) or immutable_undeclared < 0:
        raise _Corrupt("summary.immutable-undeclared", "expected a count")
    environment = _optional(top, "environment", str, "")
    unknown = _optional(top, "unknown_live_fields", list, "") or []
    if not all(isinstance(name, str) for name in unknown):
        raise _Corrupt("unknown_live_fields", "expected a list of field names")
    targets = _optional(top, "targets", list, "") or []
    if not all(isinstance(pattern, str) and pattern for pattern in targets):
        raise _Corrupt("targets", "expected a list of --target patterns")
    untargeted: Any = top.get("untargeted", 0)
    if not _is_int(untargeted) or untargeted < 0:
        raise _Corrupt("untargeted", "expected a count")
    environment_api_url = _optional(top, "environment_api_url", str, "")
    api = _optional(top, "api", str, "") or "registry"
    if api not in APIS:
        raise _Corrupt("api", f"unknown API generation {api!r}")
    if api != "catalog" and any(_activation_of(change) for change in changes):
        raise _Corrupt("actions", "activation is planned only against the catalog API")
    for index, change in enumerate(changes):
        for key, value in (change.patch or {}).items():
            if value is None and key not in nullable_fields(api):
                raise _Corrupt(
                    f"actions[{index}].patch.{key}", f"null, but the {api} API cannot clear it"
                )
    plan = Plan(
        changes=tuple(sorted(changes, key=lambda change: change.id)),
        models_dir=_field(top, "models_dir", str, ""),
        registry=_field(top, "registry", str, ""),
        prune=_field(top, "prune", bool, ""),
        immutable_undeclared=immutable_undeclared,
        unknown_live_fields=tuple(unknown),
        environment=environment,
        environment_api_url=environment_api_url,
        targets=tuple(targets),
        untargeted=untargeted,
        api=api,
    )
    # A hand-edited action list no longer matches the summary people reviewed.
    if plan.summary() != summary:
        raise _Corrupt("summary", "does not match the actions")
    return plan


def _change(item: object, where: str) -> Change:
    data = _object(item, where)
    change_id = _field(data, "id", str, where)
    if not change_id:
        raise _Corrupt(f"{where}.id", "expected a registry id")
    name = _field(data, "action", str, where)
    action = _ACTIONS.get(name)
    if action is None:
        raise _Corrupt(f"{where}.action", f"unknown action {name!r}")
    body = _optional(data, "body", dict, where)
    patch = _optional(data, "patch", dict, where)
    fingerprint = _optional(data, "live_fingerprint", str, where)
    if action in (Action.CREATE, Action.REPLACE):
        if body is None:
            raise _Corrupt(f"{where}.body", f"a {action.value} needs the definition to send")
        if body.get("id") != change_id:
            raise _Corrupt(f"{where}.body.id", f"differs from the entry id {change_id!r}")
    if action is Action.UPDATE and (not patch or "id" in patch):
        raise _Corrupt(f"{where}.patch", "an update needs the fields to send, without id")
    for key, value in (patch or {}).items():
        if value is None and key not in _NULLABLE:
            raise _Corrupt(f"{where}.patch.{key}", "null, but the API cannot clear this field")
    if action in _FINGERPRINTED and fingerprint is None:
        raise _Corrupt(f"{where}.live_fingerprint", f"a {action.value} needs one")
    for key, sent in (("body", body), ("patch", patch)):
        if sent is not None and next(secret_paths(sent), None) is not None:
            raise _Corrupt(f"{where}.{key}", "holds a secret, which models/ never does")
    line = _optional(data, "line", int, where)
    return Change(
        id=change_id,
        action=action,
        reason=_field(data, "reason", str, where),
        file=_optional(data, "file", str, where),
        line=line,
        changes=tuple(
            _field_change(entry, f"{where}.changes[{index}]")
            for index, entry in enumerate(_field(data, "changes", list, where))
        ),
        body=body,
        patch=patch,
        live_fingerprint=fingerprint,
        conflict=_field(data, "conflict", bool, where),
        live_health=_live_health(data.get("live_health"), f"{where}.live_health"),
        activate=_source(data, "activate", where),
        deactivate=_source(data, "deactivate", where),
        held_by=_source(data, "held_by", where),
    )


def _source(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value: str | None = _optional(data, key, str, where)
    if value is not None and value not in _SOURCES:
        raise _Corrupt(f"{where}.{key}", f"unknown source {value!r}")
    return value


def _activation_of(change: Change) -> bool:
    return change.action in (Action.ACTIVATE, Action.DEACTIVATE) or any(
        (change.activate, change.deactivate, change.held_by)
    )


def check_generation(plan: Plan, api: str, path: Path) -> None:
    """Raise :class:`PlanFileError` unless ``plan`` was made for the API generation
    ``api`` the registry speaks now."""
    if plan.api != api:
        raise PlanFileError(
            f"plan file {path} was made for the {plan.api} API, but the registry speaks the "
            f"{api} API now; plan again against it"
        )


def _live_health(value: object, where: str) -> LiveHealth | None:
    # Shown to reviewers only; apply never acts on it. Checked like a list's health.
    try:
        return parse_health(value, "", where)
    except ResponseShapeError as exc:
        raise _Corrupt(exc.where, exc.what) from None


def _field_change(item: object, where: str) -> FieldChange:
    data = _object(item, where)
    name = _field(data, "kind", str, where)
    kind = _KINDS.get(name)
    if kind is None:
        raise _Corrupt(f"{where}.kind", f"unknown kind {name!r}")
    if "before" not in data or "after" not in data:
        raise _Corrupt(where, "expected before and after")
    return FieldChange(
        path=_field(data, "path", str, where),
        kind=kind,
        before=data["before"],
        after=data["after"],
        origin=_optional(data, "origin", str, where),
    )


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Corrupt(where, "expected a JSON object")
    return value


_TYPE_NAMES = {str: "a string", bool: "true or false", list: "a list", dict: "an object"}


def _field(data: Mapping[str, Any], key: str, kind: type[Any], where: str) -> Any:
    if key not in data:
        raise _Corrupt(_join(where, key), "missing")
    value = data[key]
    if not _is(value, kind):
        raise _Corrupt(_join(where, key), f"expected {_TYPE_NAMES.get(kind, 'an integer')}")
    return value


def _optional(data: Mapping[str, Any], key: str, kind: type[Any], where: str) -> Any:
    if data.get(key) is None:
        return None
    return _field(data, key, kind, where)


def _is(value: object, kind: type[Any]) -> bool:
    if kind is int:
        return _is_int(value)
    return isinstance(value, kind)


def _is_int(value: object) -> bool:
    # JSON true is a Python int; a line number or count is never a boolean.
    return isinstance(value, int) and not isinstance(value, bool)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
