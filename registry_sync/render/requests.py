"""What ``apply --dry-run`` would send: one request per write, in the plan's order.

Each request is its method, its path below the API's base URL (built by the client's
own :func:`~registry_sync.schema.ids.id_segment` and
:func:`~registry_sync.schema.ids.id_query`, so byte for byte what it sends), and the
JSON body
(a create's full definition, an update's patch). A replace is a DELETE, then a
POST. A create whose file omits ``created`` shows ``(set at apply)`` where apply
stamps the time of the write. Bodies come from models/, which never holds a secret;
they still pass through :func:`redact`, so no secret can be printed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry_sync.plan.model import Action, Change, Plan
from registry_sync.render.text import SET_AT_APPLY
from registry_sync.schema.ids import id_query, id_segment
from registry_sync.schema.secrets import SENSITIVE, redact

__all__ = ["API_PATH", "CATALOG_PATH", "PlannedRequest", "planned_requests", "render_requests"]

# The registry's path below the API's base URL (the client's API_PATH, which this
# module does not import: rendering must not load the HTTP stack). In the catalog
# generation the same path activates and deactivates names; definitions live below
# CATALOG_PATH.
API_PATH = "/api/v1/llm/models/registry"
CATALOG_PATH = "/api/v1/llm/models/catalog"


@dataclass(frozen=True)
class PlannedRequest:
    """One request apply would send; ``body`` is None for a DELETE."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None


def planned_requests(plan: Plan) -> list[PlannedRequest]:
    """The requests the plan's writes send, entry by entry in the plan's order (apply
    itself orders reroute targets first and runs independent entries at once)."""
    found: list[PlannedRequest] = []
    for change in plan.writes:
        found.extend(_catalog_requests(change) if plan.api == "catalog" else _requests(change))
    return found


def _catalog_requests(change: Change) -> list[PlannedRequest]:
    """The catalog generation's requests: the definition written first, then the
    name deactivated from its holder, then activated (as apply sends them)."""
    by_id = id_query(change.id)
    post = PlannedRequest("POST", CATALOG_PATH, _with_stamp(change.body or {}))
    found: list[PlannedRequest] = []
    if change.action is Action.CREATE:
        found.append(post)
    elif change.action is Action.REPLACE:
        found.extend([PlannedRequest("DELETE", CATALOG_PATH + by_id), post])
    elif change.action is Action.UPDATE:
        found.append(
            PlannedRequest("PATCH", CATALOG_PATH, {"id": change.id, **(change.patch or {})})
        )
    elif change.action is Action.DELETE:
        found.append(PlannedRequest("DELETE", CATALOG_PATH + by_id))
    if change.deactivate is not None:
        found.append(PlannedRequest("DELETE", API_PATH + by_id))
    if change.activate is not None:
        body = {"source": change.activate, "model_id": change.id}
        found.append(PlannedRequest("POST", API_PATH, body))
    return found


def _requests(change: Change) -> list[PlannedRequest]:
    path = f"{API_PATH}/{id_segment(change.id)}"
    post = PlannedRequest("POST", API_PATH, _with_stamp(change.body or {}))
    if change.action is Action.CREATE:
        return [post]
    if change.action is Action.REPLACE:
        return [PlannedRequest("DELETE", path), post]
    if change.action is Action.UPDATE:
        return [PlannedRequest("PATCH", path, dict(change.patch or {}))]
    return [PlannedRequest("DELETE", path)]


def _with_stamp(body: Mapping[str, Any]) -> dict[str, Any]:
    return dict(body) if "created" in body else {**body, "created": SET_AT_APPLY}


def render_requests(plan: Plan, *, already_applied: bool = False) -> str:
    """The dry run's report, ending with a newline; with ``already_applied`` (the
    registry holds every write of a saved plan) apply would send nothing."""
    if already_applied:
        return (
            "Dry run: already applied: the registry already holds every write of this "
            "plan, so apply would send nothing.\n"
        )
    requests = planned_requests(plan)
    if not requests:
        return "Dry run: apply would send nothing.\n"
    count = len(requests)
    lines = [f"Dry run: apply would send {count} {'request' if count == 1 else 'requests'}:"]
    for request in requests:
        lines.append("")
        lines.append(f"  {request.method} {request.path}")
        if request.body is not None:
            text = json.dumps(redact(dict(request.body)), indent=2, ensure_ascii=False)
            for quoted in (SENSITIVE, SET_AT_APPLY):
                text = text.replace(json.dumps(quoted), quoted)
            lines.extend("    " + line for line in text.splitlines())
    lines.extend(["", "Nothing was written (--dry-run)."])
    return "\n".join(lines) + "\n"
