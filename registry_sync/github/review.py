"""What ties a merge to the plan a reviewer saw: project keys, hidden markers, plan
digests, and the comparison of a new plan with the reviewed one. Pure: no I/O.

The mechanism (docs/github.md, "Apply what was reviewed"): the pull request's plan
comment is a pointer. Its hidden first line holds the project key, the digest of the
JSON plan, the head commit it was planned at and the run whose artifact holds that
plan. After the merge, ``mode: apply`` checks the run through the API, reads the
reviewed plan from its artifact and re-plans; it applies when the new digest equals
the reviewed one, or when every write left is identical to one of the reviewed plan:
the rest of a partly applied plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
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

# The top-level keys of the JSON plan the digest covers: the settings a plan was
# made with (a key added to the format takes part only once it is listed here).
_DIGESTED = frozenset(
    {
        "format_version",
        "registry",
        "api",
        "models_dir",
        "prune",
        "environment",
        "environment_api_url",
        "partial",
        "targets",
    }
)
# What an action carries about where it was declared, not what it writes.
_WHERE = frozenset({"file", "line", "live_health"})
# The settings a plan was made with: a remainder must share them with the reviewed plan.
_SETTINGS = ("registry", "models_dir", "prune")
_WRITES = frozenset({"create", "update", "replace", "delete"})
# Every action that changes the registry: the writes and the catalog's activations.
_ACTS = _WRITES | {"activate", "deactivate"}
_PREFIX = "<!-- registry-sync-"
_SUFFIX = " -->"


@dataclass(frozen=True)
class ProjectKey:
    """What one comment, artifact and issue belong to: a models folder planned
    against a registry, in an environment of ``registry-sync.yaml`` or none.
    ``models_dir`` is the folder's path from the repository's root (the working
    directory included), so ``teams/a/models`` and ``teams/b/models`` are two
    projects even when each names its folder ``models``."""

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
    """``sha256:<hex>`` of what the JSON plan writes, in canonical form (sorted keys,
    compact separators, UTF-8): the settings it was made with and every action that
    writes or conflicts, each without where it was declared.

    Left out, so that a plan of the same writes has the same digest however the files
    moved and whatever else the registry holds: the tool's version; each action's
    ``file``, ``line`` and the ``origin`` of its field changes (an earlier merge that
    adds a line above an entry, or renames its file, changes no write); its
    ``live_health`` (what the registry observed, which may change between review and
    merge); the actions that write nothing (``no-op``, ``unmanaged``, a ``read-only``
    entry in step) and what is counted or judged from the registry as a whole
    (``summary``, ``untargeted``, ``unknown_live_fields``, ``violations``,
    ``reroutes``): apply judges a plan again before it writes."""
    kept = {key: value for key, value in document.items() if key in _DIGESTED}
    kept["actions"] = [_written(action) for action in _actions(document)]
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


def _writes(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [_written(action) for action in _actions(document) if action.get("action") in _ACTS]


def _actions(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The actions that write or conflict (what a plan does to the registry)."""
    actions = document.get("actions")
    if not isinstance(actions, list):
        return []
    return [
        action
        for action in actions
        if isinstance(action, dict) and (action.get("action") in _ACTS or action.get("conflict"))
    ]


def _written(action: Mapping[str, Any]) -> dict[str, Any]:
    """``action`` without where it was declared (its file, line, overlay origins)
    and without the registry's health."""
    kept = {key: value for key, value in action.items() if key not in _WHERE}
    changes = kept.get("changes")
    if isinstance(changes, list):
        kept["changes"] = [
            {key: value for key, value in item.items() if key != "origin"}
            if isinstance(item, dict)
            else item
            for item in changes
        ]
    return kept


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
