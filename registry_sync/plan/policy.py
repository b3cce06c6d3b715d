"""Plan + rules -> the plan's judgements: its violations and the risk of each change. Pure.

``plan`` and ``apply`` both run :func:`judge`, so what a reviewer sees refused is
exactly what apply refuses, with the same message. The planner says what would
change; this module says whether that is allowed and how much it can hurt:

* risk classes -- ``destructive`` (delete, replace), ``breaking`` (callers or traffic
  are affected: see :func:`breaking_reasons`), ``safe`` (everything else);
* violations -- the safety rails (``protect``, ``freeze``, ``max-deletes``,
  ``delete-all``), read-only conflicts, deleting an entry something still reroutes
  to, and a risk class the project's ``policy:`` denies without ``--allow``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from registry_sync.plan.compare import field_changes
from registry_sync.plan.edges import definitions_after, plan_edges
from registry_sync.plan.model import (
    WRITING_ACTIONS,
    Action,
    Change,
    ChangeKind,
    FieldChange,
    Plan,
    Risk,
    Violation,
)
from registry_sync.schema.reroutes import rules_of, trigger_label
from registry_sync.schema.secrets import SENSITIVE
from registry_sync.schema.values import is_number

__all__ = [
    "RULES",
    "Rules",
    "SafetyRails",
    "breaking_reasons",
    "classify",
    "conflict_reasons",
    "judge",
    "violations",
]

# Every rule string a Violation can carry; the JSON plan's contract.
RULES = (
    "protect",
    "freeze",
    "max-deletes",
    "delete-all",
    "read-only-conflict",
    "reroute-target-deleted",
    "destructive-denied",
    "breaking-denied",
    "name-held",
)

# The actions of a mutable live entry: its count is the registry's mutable entries.
_MUTABLE_LIVE = frozenset(
    {Action.NO_OP, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.UNMANAGED}
)
# Fields whose change sends callers somewhere else (apiProviderType: another of the
# server's provider integrations, with its own credentials and quirks).
_IDENTITY_FIELDS = ("modelId", "provider", "apiFormat", "apiProviderType", "auth.type")
# Numbers whose lowering turns away requests that are served now.
_LOWERED_FIELDS = ("contextWindow", "rpm", "concurrency.max")
# What a change of each part of ``auth`` means for the server's operators, by the
# part's key (inside a composite auth's strategies too). Values are never named: a
# reason is printed, and an auth value may be a secret.
_AUTH_CONSEQUENCES = {
    "value": "the registry's inline key (sensitive) is deleted; calls fail unless the "
    "server has the key another way",
    "envVar": "the server reads the key from another environment variable, which its "
    "operators must set before apply",
    "envVars": "the server reads header values from other environment variables, which its "
    "operators must set before apply",
    "headerName": "the key is sent to the upstream in another header",
    "headers": "the upstream receives other credential headers",
    "strategies": "a strategy of the composite auth is added or dropped",
    "type": "a strategy authenticates another way",
}
_AUTH_OTHERWISE = "the upstream is called with other credentials"
_ABSENT: Any = object()


@dataclass(frozen=True)
class SafetyRails:
    """What apply refuses. ``protect`` holds ids or glob patterns (``prod:*``) never
    deleted or replaced; ``freeze`` holds patterns never written at all;
    ``max_deletes`` caps the deletes of one plan (None: no cap); ``allow_delete_all``
    permits a plan that deletes every mutable entry."""

    protect: tuple[str, ...] = field(default=())
    max_deletes: int | None = None
    allow_delete_all: bool = False
    freeze: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Rules:
    """Everything :func:`judge` checks a plan against: the rails, the risk classes the
    project's ``policy:`` denies, and those the run allows anyway (``--allow``)."""

    rails: SafetyRails = field(default_factory=SafetyRails)
    deny: frozenset[Risk] = frozenset()
    allow: frozenset[Risk] = frozenset()


def judge(plan: Plan, rules: Rules, live: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    """``plan`` with the risk of every change, its violations and the reroute rules
    touching changed entries filled in. ``live`` maps each live id to its definition
    (None: only what the plan itself holds is known, so no reroute checks)."""
    changes = tuple(_with_risk(change) for change in plan.changes)
    judged = dataclasses.replace(plan, changes=changes)
    found = violations(judged, rules)
    reroutes: tuple[Any, ...] = ()
    if live is not None:
        after = definitions_after(judged, live)
        found.extend(_deleted_targets(judged, after))
        reroutes = plan_edges(judged, live, after)
    return dataclasses.replace(judged, violations=tuple(found), reroutes=reroutes)


def classify(change: Change) -> tuple[Risk, tuple[str, ...]]:
    """The risk class of one change, and the reasons for it (empty when safe)."""
    serving = tuple(_serving_reasons(change))
    if change.action not in (Action.UPDATE, Action.REPLACE, Action.DELETE):
        return (Risk.BREAKING, serving) if serving else (Risk.SAFE, ())
    if change.action is Action.DELETE:
        return Risk.DESTRUCTIVE, ("deleted: callers of this id get an error",)
    breaking = (*breaking_reasons(change), *serving)
    if change.action is Action.REPLACE:
        return Risk.DESTRUCTIVE, ("replaced: deleted, then re-created", *breaking)
    return (Risk.BREAKING, breaking) if breaking else (Risk.SAFE, ())


def _serving_reasons(change: Change) -> Iterator[str]:
    """Why a change of who serves a name affects callers (the catalog generation)."""
    if change.deactivate is None:
        return
    if change.activate is None:
        yield "deactivated: callers of this name get an error until it is served again"
    else:
        yield (
            f"taken from {change.deactivate}: callers are served by the {change.activate} "
            "definition from now on"
        )


def breaking_reasons(change: Change) -> Iterator[str]:
    """Why a change affects callers or traffic, or needs the server's operators,
    computed from its field changes: modelId, provider, apiFormat, apiProviderType or
    auth.type changed; any other part of auth changed (variable, header, strategy, the
    inline value removed: named, never its value); an input or output modality
    removed; contextWindow, rpm or concurrency.max lowered; hidden turned on; the
    healthCheck turned on or off; a reroute rule removed or retargeted; the baseUrl
    host changed."""
    before, after = _sides(change)
    for name in _IDENTITY_FIELDS:
        old, new = _at(before, name), _at(after, name)
        if (old is not _ABSENT or new is not _ABSENT) and old != new:
            yield f"{name} changed ({_show(old)} -> {_show(new)})"
    yield from _auth_reasons(change)
    for direction in ("input", "output"):
        old, new = (_at(side, f"capabilities.modalities.{direction}") for side in (before, after))
        for modality in sorted(_values(old) - _values(new), key=str):
            yield f"{direction} modality {_show(modality)} removed"
    for name in _LOWERED_FIELDS:
        old, new = _at(before, name), _at(after, name)
        if is_number(old) and is_number(new) and new < old:
            yield f"{name} lowered ({old} -> {new})"
    yield from _health_check_reasons(change)
    if _at(after, "hidden") is True and _at(before, "hidden") is not True:
        yield "hidden turned on"
    yield from _reroute_reasons(_at(before, "rerouteRules"), _at(after, "rerouteRules"))
    old, new = _at(before, "baseUrl"), _at(after, "baseUrl")
    if SENSITIVE in (old, new):
        # Fail closed: a redacted URL's host cannot be compared.
        yield "baseUrl changed, and its host cannot be compared: the live value is sensitive"
    elif (old is not _ABSENT or new is not _ABSENT) and _host(old) != _host(new):
        yield f"baseUrl host changed ({_host(old) or '(none)'} -> {_host(new) or '(none)'})"


def _auth_reasons(change: Change) -> Iterator[str]:
    """One reason per changed part of ``auth`` but its type (an identity field): the
    path, how it changed and what that means, never a value."""
    for item in _auth_changes(change.changes):
        parts = _parse_path(item.path)
        if parts[1:] == ["type"]:
            continue
        if len(parts) == 1:
            yield f"auth {item.kind.value}: {_AUTH_OTHERWISE}"
            continue
        key = _auth_key(parts[1:])
        yield f"{item.path} {item.kind.value}: {_AUTH_CONSEQUENCES.get(key, _AUTH_OTHERWISE)}"


def _auth_changes(changes: Sequence[FieldChange]) -> Iterator[FieldChange]:
    """The changes below ``auth``; a whole auth object changed is taken apart, so that
    each reason names the part that changed."""
    for item in changes:
        parts = _parse_path(item.path)
        if not parts or parts[0] != "auth":
            continue
        if parts == ["auth"] and isinstance(item.before, dict) and isinstance(item.after, dict):
            yield from field_changes({"auth": item.before}, {"auth": item.after})
        else:
            yield item


def _auth_key(parts: Sequence[str | int]) -> str:
    """The key of the auth part a path below ``auth`` names, inside a composite's
    strategies too: ``strategies[0].envVar`` -> ``envVar``; ``strategies[1]`` ->
    ``strategies``; ``headers.X-Key`` -> ``headers``."""
    rest = list(parts)
    while len(rest) >= 2 and rest[0] == "strategies" and isinstance(rest[1], int):
        rest = rest[2:]
    if not rest:
        return "strategies"
    return str(rest[0])


def _health_check_reasons(change: Change) -> Iterator[str]:
    """The healthCheck turned on or off: on, a failing probe makes the model unavailable
    to callers; off, an outage of the upstream goes unnoticed. Operators watch both."""
    for item in change.changes:
        if item.path == "healthCheck":
            old, new = _check_mode(item.before), _check_mode(item.after)
        elif item.path == "healthCheck.mode":
            # A check without a mode is the older {url, method} form: it probes.
            old = "url-form" if item.kind is ChangeKind.ADDED else str(item.before)
            new = "url-form" if item.kind is ChangeKind.REMOVED else str(item.after)
        else:
            continue
        if (old == "off") == (new == "off"):
            continue
        if new == "off":
            yield (
                f"healthCheck turned off ({old} -> off): the server stops probing the "
                "upstream, so an outage goes unnoticed"
            )
        else:
            yield (
                f"healthCheck turned on (off -> {new}): the server probes the upstream, and "
                "a failing probe makes the model unavailable to callers"
            )


def _check_mode(value: Any) -> str:
    """``off`` for no check (absent, null or mode off), else the check's mode."""
    if not isinstance(value, Mapping):
        return "off"
    mode = value.get("mode")
    return mode if isinstance(mode, str) else "url-form"


def violations(plan: Plan, rules: Rules) -> list[Violation]:
    """The rules ``plan`` breaks, without the reroute checks (which need live entries):
    read-only conflicts, protect, freeze, max-deletes, delete-all and denied risk
    classes. Risk must already be filled in (see :func:`judge`)."""
    rails = rules.rails
    found = [
        Violation("read-only-conflict", change.id, reason)
        for change, reason in zip(plan.conflicts, conflict_reasons(plan), strict=True)
    ]
    found.extend(
        Violation(
            "name-held",
            change.id,
            f"{change.id} is served from {change.held_by}, and a name is served from one "
            "source at a time: list it under activation.switch in registry-sync.yaml to "
            f"take it from {change.held_by} (a breaking change), or stop declaring it",
        )
        for change in plan.changes
        if change.held_by is not None
    )
    for change in plan.writes:
        protected = _matching(change.id, rails.protect)
        if protected and change.action in (Action.DELETE, Action.REPLACE):
            verb = "delete" if change.action is Action.DELETE else "replace (delete and re-create)"
            found.append(
                Violation(
                    "protect",
                    change.id,
                    f"{change.id} is protected (protect: {protected}) and the plan would {verb} it",
                )
            )
        frozen = _matching(change.id, rails.freeze)
        if frozen:
            found.append(
                Violation(
                    "freeze",
                    change.id,
                    f"{change.id} is frozen (freeze: {frozen}) and the plan would "
                    f"{_verb(change.action)} it",
                )
            )
    deletes = plan.count(Action.DELETE)
    if rails.max_deletes is not None and deletes > rails.max_deletes:
        found.append(
            Violation(
                "max-deletes",
                None,
                f"the plan deletes {deletes} {_entries(deletes)}, more than --max-deletes "
                f"{rails.max_deletes}",
            )
        )
    # A partial plan is judged against the whole registry: the entries --target left
    # out survive it.
    mutable = plan.untargeted + sum(1 for c in plan.changes if c.action in _MUTABLE_LIVE)
    if deletes and deletes == mutable and not rails.allow_delete_all:
        found.append(
            Violation(
                "delete-all",
                None,
                f"the plan deletes every mutable entry in the registry ({deletes} of "
                f"{mutable}), the usual result of an empty or mistyped models folder "
                f"({plan.models_dir}/); pass --allow-delete-all if that is really intended",
            )
        )
    for risk in (Risk.DESTRUCTIVE, Risk.BREAKING):
        if risk not in rules.deny or risk in rules.allow:
            continue
        for change in plan.writes:
            if change.risk is risk:
                found.append(
                    Violation(
                        f"{risk.value}-denied",
                        change.id,
                        f"{change.id}: {risk.value} change ({'; '.join(change.risk_reasons)}) "
                        f"denied by policy.{risk.value}: deny in registry-sync.yaml; pass "
                        f"--allow {risk.value} if it is intended",
                    )
                )
    return found


def conflict_reasons(plan: Plan) -> list[str]:
    """One reason per read-only conflict: a plan with any is never applied."""
    return [
        f"{change.id} is immutable on the server and its file differs: it can never be "
        "written; make the file match the server or remove it"
        for change in plan.conflicts
    ]


def _deleted_targets(plan: Plan, after: Mapping[str, Mapping[str, Any]]) -> list[Violation]:
    deleted = {change.id for change in plan.changes if change.action is Action.DELETE}
    if not deleted:
        return []
    found = []
    for model_id in sorted(after):
        for rule in rules_of(model_id, after[model_id]):
            if rule.target in deleted:
                found.append(
                    Violation(
                        "reroute-target-deleted",
                        rule.target,
                        f"{rule.target} is deleted by the plan, but {model_id} still reroutes "
                        f"to it (rerouteRules[{rule.position}], {rule.trigger}); retarget or "
                        f"remove that rule first, or keep {rule.target}",
                    )
                )
    return found


def _with_risk(change: Change) -> Change:
    if change.action not in WRITING_ACTIONS:
        return change  # safe, as a Change starts
    risk, reasons = classify(change)
    return dataclasses.replace(change, risk=risk, risk_reasons=reasons)


def _sides(change: Change) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Partial documents (before, after) holding only what the field changes touch.

    List items touched one by one are kept in dicts keyed by index; a side where a
    field is absent holds ``_ABSENT`` there. Works whether a change names a whole
    top-level field or one list item deep inside it.
    """
    before: dict[Any, Any] = {}
    after: dict[Any, Any] = {}
    for item in change.changes:
        parts = _parse_path(item.path)
        if not parts:
            continue
        _put(before, parts, _ABSENT if item.kind is ChangeKind.ADDED else item.before)
        _put(after, parts, _ABSENT if item.kind is ChangeKind.REMOVED else item.after)
    return before, after


def _put(document: dict[Any, Any], parts: Sequence[str | int], value: Any) -> None:
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def _at(document: Any, dotted: str) -> Any:
    """The value at ``dotted`` in a partial document; ``_ABSENT`` when not there."""
    node = document
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return _ABSENT
    return node


def _values(node: Any) -> set[Any]:
    if isinstance(node, list):
        return {item for item in node if isinstance(item, str)}
    if isinstance(node, Mapping):
        return {item for item in node.values() if isinstance(item, str)}
    return set()


def _items(node: Any) -> dict[int, Any]:
    if isinstance(node, list):
        return dict(enumerate(node))
    if isinstance(node, Mapping):
        return {key: value for key, value in node.items() if isinstance(key, int)}
    return {}


def _reroute_reasons(before: Any, after: Any) -> Iterator[str]:
    if before is _ABSENT:
        return
    if isinstance(before, list) and isinstance(after, list):
        yield from _reroute_reasons_by_trigger(before, after)
        return
    # Rules touched one by one: compare them position by position.
    new_rules = {} if after is _ABSENT else _items(after)
    for index, old in sorted(_items(before).items()):
        if old is _ABSENT:
            continue
        new = new_rules.get(index, _ABSENT)
        old_target = _target(old)
        to = f" (to {old_target})" if old_target else ""
        if new is _ABSENT:
            yield f"reroute rule rerouteRules[{index}] removed{to}"
        elif old_target is not None and _target(new) not in (None, old_target):
            yield f"reroute rule rerouteRules[{index}] retargeted ({old_target} -> {_target(new)})"


def _reroute_reasons_by_trigger(before: list[Any], after: list[Any]) -> Iterator[str]:
    """Whole lists: a rule is known by its trigger, wherever it stands in the list."""
    targets: dict[str, set[str]] = {}
    for rule in after:
        if isinstance(rule, Mapping):
            targets.setdefault(trigger_label(rule), set()).add(str(_target(rule)))
    for rule in before:
        if not isinstance(rule, Mapping):
            continue
        trigger, target = trigger_label(rule), str(_target(rule))
        now = targets.get(trigger)
        if not now:
            yield f"reroute rule for {trigger} removed (to {target})"
        elif target not in now:
            yield f"reroute rule for {trigger} retargeted ({target} -> {', '.join(sorted(now))})"


def _target(rule: Any) -> str | None:
    if isinstance(rule, Mapping) and isinstance(rule.get("targetModelId"), str):
        return str(rule["targetModelId"])
    return None


def _host(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    return urlsplit(url).hostname


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)


_PATH_PART = re.compile(r'\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _parse_path(path: str) -> list[str | int]:
    """``a.b[0]["X-Key"]`` -> ``['a', 'b', 0, 'X-Key']``: the inverse of format_path."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None:
            return []
        name, number, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif number is not None:
            parts.append(int(number))
        else:
            parts.append(str(json.loads(quoted)))
        position = match.end()
    return parts


def _matching(model_id: str, patterns: Sequence[str]) -> str:
    return ", ".join(repr(p) for p in patterns if fnmatch.fnmatchcase(model_id, p))


def _verb(action: Action) -> str:
    return {
        Action.CREATE: "create",
        Action.UPDATE: "update",
        Action.REPLACE: "replace (delete and re-create)",
        Action.ACTIVATE: "activate",
        Action.DEACTIVATE: "deactivate",
    }.get(action, "delete")


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"
