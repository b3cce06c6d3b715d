"""The JSON plan: the versioned contract other tools (and ``apply``) read; written here,
read back by :mod:`registry_sync.plan.planfile`.

Format version 2::

    {
      "format_version": "2",
      "tool": {"name": "registry-sync", "version": "..."},
      "models_dir": "models", "registry": "<API URL or file:PATH>",
      "api": "registry|catalog", "prune": false,
      "environment": "staging",   (only when made for an environment of registry-sync.yaml)
      "environment_api_url": "...",  (only when --api-url replaced the environment's api_url)
      "partial": false, "targets": ["<--target pattern>"], "untargeted": 0,
      "summary": {"create": 0, "update": 0, "replace": 0, "delete": 0, "no-op": 0,
                  "read-only": 0, "unmanaged": 0, "conflict": 0, "immutable-undeclared": 0,
                  "activate": 0, "deactivate": 0,  (catalog plans only)
                  "risk": {"safe": 0, "breaking": 0, "destructive": 0}},
      "unknown_live_fields": ["<top-level live fields this version does not compare>"],
      "violations": [{"rule": "protect|freeze|max-deletes|delete-all|read-only-conflict|"
                              "reroute-target-deleted|destructive-denied|breaking-denied|"
                              "name-held",
                      "id": "..." | null, "message": "..."}],
      "reroutes": [{"source": "...", "target": "...", "trigger": "error-fallback",
                    "status": "added|removed|kept"}],  (only when the plan touches any)
      "actions": [
        {"id": "...", "action": "create|update|replace|delete|no-op|read-only|unmanaged|"
                                "activate|deactivate",
         "file": "models/x.yaml" | null, "line": 1 | null, "reason": "...",
         "conflict": false, "risk": "safe|breaking|destructive", "risk_reasons": ["..."],
         "changes": [{"path": "a.b[0]", "kind": "added|removed|changed",
                      "before": ..., "after": ...,
                      "origin": "overlays/staging/x.yaml:4"}],  (only when an overlay set it)
         "body": {...} | null, "patch": {...} | null, "live_fingerprint": "sha256:..." | null,
         "live_health": {"is_available": false, "last_health_check": 1704067200000 | null,
                         "error": "..." | null,
                         "status": "available|unavailable|unknown"} | null,  (status: catalog)
         "activate": "byo|serving|cluster" | null,  (these three: catalog plans only)
         "deactivate": "byo|serving|cluster" | null, "held_by": "serving" | null}
      ]
    }

``before``/``after`` are null when the field is absent on that side (see ``kind``).
Secrets seen live are the string ``(sensitive)``. In a ``patch``, null clears the
field (kind ``removed``). A create's ``body`` has no ``created`` unless the file
declares one: ``apply`` stamps it at apply time. ``replace`` comes only from
``--replace ID``. A plan made with ``--target`` is ``partial``: ``targets`` lists its
patterns, only matching ids are in ``actions`` and ``summary``, and ``untargeted``
counts the mutable live entries left out (the delete-all rule counts them too).
``summary.risk`` counts the writes (create, update, replace,
delete) per risk class. A plan with any ``violations`` is refused by apply; ``apply``
of a saved plan judges it again and never reads the saved ``risk``, ``risk_reasons``
or ``violations``. ``environment`` is absent, not null, for a plan made without
``environments:``, so such plans are byte for byte what they were; ``apply --env
NAME`` refuses a saved plan whose ``environment`` is not NAME. Version 2 dropped
``forces_replace`` and added the risk and violation fields: a version 1 reader
would take a refused plan for an appliable one. ``live_health`` is the registry's
health of the live entry (as its list reports it) for an action that writes it or
conflicts with it, and for any declared entry the registry reports unavailable
(``no-op`` included); null otherwise. It was added within version 2 (readers ignore
keys they do not know).

``reroutes`` lists the reroute rules touching an entry the plan writes (the picture of
the pull-request comment), absent when there are none; like ``risk`` and
``violations`` it is the judgement of when the plan was made, which ``show`` prints
and ``apply`` never reads. It was added within version 2.

``api`` names the API generation the registry speaks (``registry``: the registry API
of SDK 0.6.x; ``catalog``: the catalog and activation API); ``apply`` refuses a saved
plan made for the other generation, and reads a plan without ``api`` as
``registry``. In a catalog plan, ``activate`` is the source apply serves the name from
once the definition is written, ``deactivate`` the source it stops serving the name
from first (a switch, or a model kept inactive), and ``held_by`` another source that
serves the name (the ``name-held`` violation). ``api`` and the catalog fields were
added within version 2.
"""

from __future__ import annotations

import json
from typing import Any

from registry_sync._version import __version__
from registry_sync.live.entries import LiveHealth
from registry_sync.plan.model import Change, FieldChange, Plan

__all__ = ["FORMAT_VERSION", "plan_document", "render_json"]

FORMAT_VERSION = "2"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as a JSON-ready dict in format version 2."""
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "registry-sync", "version": __version__},
        "models_dir": plan.models_dir,
        "registry": plan.registry,
        "api": plan.api,
        "prune": plan.prune,
    }
    if plan.environment is not None:
        document["environment"] = plan.environment
    if plan.environment_api_url is not None:
        document["environment_api_url"] = plan.environment_api_url
    return (
        document
        | {
            "partial": plan.partial,
            "targets": list(plan.targets),
            "untargeted": plan.untargeted,
            "summary": {**plan.summary(), "risk": plan.risk_counts()},
            "unknown_live_fields": list(plan.unknown_live_fields),
            "violations": [
                {"rule": violation.rule, "id": violation.id, "message": violation.message}
                for violation in plan.violations
            ],
            "actions": [_action(change, catalog=plan.api == "catalog") for change in plan.changes],
        }
        | _reroutes(plan)
    )


def _reroutes(plan: Plan) -> dict[str, Any]:
    # Absent without any, so that such plans are byte for byte what they were.
    if not plan.reroutes:
        return {}
    return {
        "reroutes": [
            {"source": e.source, "target": e.target, "trigger": e.trigger, "status": e.status}
            for e in plan.reroutes
        ]
    }


def render_json(plan: Plan) -> str:
    """The plan as indented JSON text, ending with a newline."""
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"


def _field(item: FieldChange) -> dict[str, Any]:
    found = {"path": item.path, "kind": item.kind.value, "before": item.before, "after": item.after}
    if item.origin is not None:
        found["origin"] = item.origin
    return found


def _action(change: Change, *, catalog: bool) -> dict[str, Any]:
    found = {
        "id": change.id,
        "action": change.action.value,
        "file": change.file,
        "line": change.line,
        "reason": change.reason,
        "conflict": change.conflict,
        "risk": change.risk.value,
        "risk_reasons": list(change.risk_reasons),
        "changes": [_field(item) for item in change.changes],
        "body": None if change.body is None else dict(change.body),
        "patch": None if change.patch is None else dict(change.patch),
        "live_fingerprint": change.live_fingerprint,
        "live_health": None if change.live_health is None else _health(change.live_health),
    }
    if catalog:
        found |= {
            "activate": change.activate,
            "deactivate": change.deactivate,
            "held_by": change.held_by,
        }
    return found


def _health(health: LiveHealth) -> dict[str, Any]:
    found: dict[str, Any] = {
        "is_available": health.is_available,
        "last_health_check": health.last_health_check,
        "error": health.error,
    }
    if health.status is not None:
        found["status"] = health.status
    return found
