"""What the registry API cannot do, found at plan time at the file's line.

A plan must never hold a write the API refuses: that would fail after merge, half
applied. :func:`write_problems` reads a computed plan and names every such write as
a :class:`Problem` pointing into models/, so ``plan`` fails before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry_sync.desired.loader import line_of
from registry_sync.plan.model import Action, Change, Plan
from registry_sync.schema.fields import NULLABLE_FIELDS, health_check_form
from registry_sync.schema.problems import Problem

__all__ = ["write_problems"]

_PROVIDER_TYPES = "groq, azure, meetkai, meetkaiGateway, fal, openai"


def write_problems(plan: Plan) -> list[Problem]:
    """Problems for the plan's writes the API would refuse, sorted by file and line."""
    problems: list[Problem] = []
    for change in plan.changes:
        if change.action in (Action.CREATE, Action.REPLACE) and change.body is not None:
            problems.extend(_body_problems(change, change.body))
        elif change.action is Action.UPDATE and change.patch is not None:
            problems.extend(_patch_problems(change, change.patch))
    return sorted(problems)


def _body_problems(change: Change, body: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    if "apiProviderType" not in body:
        verb = "re-create" if change.action is Action.REPLACE else "create"
        found.append(
            _problem(
                change,
                "apiProviderType",
                f"missing: the registry API requires it to {verb} an entry; declare one "
                f"of {_PROVIDER_TYPES}",
            )
        )
    found.extend(_health_check(change, body))
    return found


def _patch_problems(change: Change, patch: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    for key, value in patch.items():
        if value is None and key not in NULLABLE_FIELDS:
            found.append(
                _problem(
                    change,
                    key,
                    f"missing, but the registry entry has one: no update can clear {key} "
                    "and no re-create can omit it; declare it in the file (export shows "
                    "the live value)",
                )
            )
    found.extend(_health_check(change, patch))
    return found


def _health_check(change: Change, sent: Mapping[str, Any]) -> list[Problem]:
    if health_check_form(sent.get("healthCheck")) != "url-form":
        return []
    return [
        _problem(
            change,
            "healthCheck",
            "the {url, method} form cannot be written: the API accepts only 'mode: off', "
            "'mode: preflight' or 'mode: periodic' (with path relative to baseUrl)",
        )
    ]


def _problem(change: Change, key: str, message: str) -> Problem:
    file = change.file or ""
    line = line_of(file, change.line, (key,)) if change.file and change.line else 0
    return Problem(file, line, key, message)
