"""What ties a merge to the plan a reviewer saw: project keys, hidden markers, plan
digests, and the comparison of a new plan with the reviewed one. Pure: no I/O.

The mechanism (docs/github.md, "Apply what was reviewed"): the pull request's plan comment
carries, in its hidden first line, the project key, the SHA-256 digest of the JSON
plan, the head commit it was planned at, the run and the artifact holding that plan.
After the merge, ``mode: apply`` re-plans; it applies when the new digest equals the
reviewed one, or when every write left is identical to one of the reviewed plan
(read from the run's artifact, whose digest must match the comment's): the rest of a
partly applied plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ProjectKey",
    "is_marked",
    "marker",
    "plan_digest",
    "read_marker",
    "short_digest",
    "unreviewed",
]

# Keys of the JSON plan that legitimately differ between two plans of the same
# inputs: the version of the tool that wrote it.
_NOT_DIGESTED = frozenset({"tool"})
# The settings a plan was made with: a remainder must share them with the reviewed plan.
_SETTINGS = ("registry", "models_dir", "prune")
_WRITES = frozenset({"create", "update", "replace", "delete"})
_PREFIX = "<!-- registry-sync-"
_SUFFIX = " -->"


@dataclass(frozen=True)
class ProjectKey:
    """What one comment, artifact and issue belong to: a models folder planned
    against a registry. ``environment`` is the seam for named environments (none
    exist yet); when set, it is part of the key."""

    models_dir: str
    registry: str
    environment: str | None = None

    @property
    def text(self) -> str:
        """The key as people read it: ``models/ → https://...``."""
        suffix = f" ({self.environment})" if self.environment else ""
        return f"{self.folder} → {self.registry}{suffix}"

    @property
    def folder(self) -> str:
        """The models folder with its trailing slash."""
        return self.models_dir.rstrip("/") + "/"

    @property
    def slug(self) -> str:
        """A short name fit for an artifact name: 10 hex digits of the key's hash."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:10]


def plan_digest(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the JSON plan in canonical form (sorted keys, compact
    separators, UTF-8), every key but the tool's version and the actions'
    ``live_health`` included: health is what the registry observed, not what the
    plan does, and it may change between review and merge."""
    kept = {key: value for key, value in document.items() if key not in _NOT_DIGESTED}
    actions = kept.get("actions")
    if isinstance(actions, list):
        kept["actions"] = [_without_health(action) for action in actions]
    return "sha256:" + hashlib.sha256(_canonical(kept).encode("utf-8")).hexdigest()


def short_digest(digest: str) -> str:
    """The first 12 hex digits, as the comment shows it."""
    return digest.removeprefix("sha256:")[:12]


def marker(kind: str, data: Mapping[str, Any]) -> str:
    """A hidden HTML comment line ``<!-- registry-sync-<kind> {json} -->``.

    ``--`` never appears inside: it could end the HTML comment early."""
    payload = _canonical(data).replace("--", "-\\u002d")
    return f"{_PREFIX}{kind} {payload}{_SUFFIX}"


def read_marker(body: str, kind: str) -> dict[str, Any] | None:
    """The data of a body's first line when it is a ``kind`` marker, else None."""
    first = body.split("\n", 1)[0].rstrip("\r")
    head = f"{_PREFIX}{kind} "
    if not first.startswith(head) or not first.endswith(_SUFFIX):
        return None
    try:
        data = json.loads(first[len(head) : -len(_SUFFIX)])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def is_marked(body: str, kind: str, project: ProjectKey) -> bool:
    """True when ``body`` starts with a ``kind`` marker for ``project``."""
    data = read_marker(body, kind)
    return data is not None and data.get("project") == project.text


def unreviewed(new: Mapping[str, Any], reviewed: Mapping[str, Any]) -> list[str]:
    """Why ``new`` is not the reviewed plan or what is left of it; empty when it is.

    Every write of ``new`` must be identical to a write of ``reviewed`` (compared as
    canonical JSON, so fields added to the plan format take part). A create of the
    body a reviewed replace was to send counts too: its delete landed, its create
    did not. Each reason starts with the entry's id or the setting's name.
    """
    reasons = [
        f"{key}: {json.dumps(new.get(key))} here, {json.dumps(reviewed.get(key))} when reviewed"
        for key in _SETTINGS
        if new.get(key) != reviewed.get(key)
    ]
    seen = {_canonical(action) for action in _writes(reviewed)}
    replaced = {
        action.get("id"): _canonical(action.get("body"))
        for action in _writes(reviewed)
        if action.get("action") == "replace"
    }
    planned = {action.get("id"): action for action in _writes(reviewed)}
    for action in _writes(new):
        if _canonical(action) in seen:
            continue
        entry = action.get("id")
        if action.get("action") == "create" and replaced.get(entry) == _canonical(
            action.get("body")
        ):
            continue
        before = planned.get(entry)
        if before is None:
            reasons.append(f"{entry}: {action.get('action')} was not in the reviewed plan")
        else:
            reasons.append(
                f"{entry}: {action.get('action')} differs from the reviewed {before.get('action')}"
            )
    return reasons


def _writes(document: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    actions = document.get("actions")
    if not isinstance(actions, list):
        return []
    return [
        _without_health(a) for a in actions if isinstance(a, dict) and a.get("action") in _WRITES
    ]


def _without_health(action: Any) -> Any:
    if not isinstance(action, dict) or "live_health" not in action:
        return action
    return {key: value for key, value in action.items() if key != "live_health"}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
