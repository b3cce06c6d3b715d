"""Registry documents as the MKA1 API returns them, built in one place.

The local server completes its entries with :func:`registry_model`, and tests, demos
and benchmarks build their seeds and expectations with the same functions, so the
RegistryModel shape (``shared/mka1-registry-api.md``) is written down once.

Every function returns fresh data: nothing passed in is kept or changed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.plan.policy import Rules, judge

__all__ = [
    "ACTIVATED_AT",
    "CREATED_AT",
    "MINIMAL_MODEL_YAML",
    "UPDATED_AT",
    "catalog_entry",
    "catalog_list",
    "list_response",
    "minimal_definition",
    "registry_model",
    "review_plan",
]

# The API reference's example timestamps (2024-01-01 and 2024-01-02, epoch milliseconds).
CREATED_AT = 1_704_067_200_000
UPDATED_AT = 1_704_153_600_000
# When a seeded catalog name was activated (2024-01-02), as the API writes it.
ACTIVATED_AT = "2024-01-02T00:00:00.000Z"

# Keys the server echoes inside ``definition``; it owns them, whatever a caller sends.
_ECHOED = ("source", "immutable")


# The smallest valid model file as a person writes it, for tests and benchmarks of
# the loader (line 7 is capabilities.reasoning; no apiProviderType, which only a
# create needs).
MINIMAL_MODEL_YAML = """\
id: meetkai:chat
provider: openai-compatible
modelId: chat-v1
apiFormat: responses
capabilities:
  modalities: {input: [text], output: [text]}
  reasoning: true
auth:
  type: api-key
  envVar: CHAT_API_KEY
"""


def registry_model(
    definition: Mapping[str, Any],
    *,
    immutable: bool = False,
    source: str | None = None,
    created_at: int | None = CREATED_AT,
    updated_at: int | None = UPDATED_AT,
    health: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One RegistryModel object, as a get, add, update or list response holds it.

    ``definition`` must have an ``id``. It is deep-copied, any ``source`` and
    ``immutable`` keys in it are replaced by the entry's own (the server echoes them
    inside), and its ``provider`` and ``modelId`` are mirrored at the top level as
    ``provider`` and ``model_id`` (empty strings when it lacks them).

    ``source`` defaults to ``"yaml"`` for an immutable entry and ``"database"``
    otherwise. ``health`` defaults to available and never checked. The timestamps are
    epoch milliseconds or None, as the API allows.
    """
    stored = {k: copy.deepcopy(v) for k, v in definition.items() if k not in _ECHOED}
    if source is None:
        source = "yaml" if immutable else "database"
    if health is None:
        health = {"is_available": True, "last_health_check": None, "error": None}
    return {
        "id": stored["id"],
        "provider": stored.get("provider", ""),
        "model_id": stored.get("modelId", ""),
        "source": source,
        "immutable": immutable,
        "definition": {**stored, "source": source, "immutable": immutable},
        "health": copy.deepcopy(dict(health)),
        "created_at": created_at,
        "updated_at": updated_at,
    }


def list_response(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The list endpoint's document, ``{"object": "list", "data": [...]}``, in the given order.

    The entries are deep-copied, so the document can be changed without touching them.
    """
    return {"object": "list", "data": [copy.deepcopy(dict(entry)) for entry in entries]}


def catalog_entry(
    definition: Mapping[str, Any],
    *,
    source: str = "byo",
    origin: str | None = "api",
    active: bool = True,
    blocker_source: str | None = None,
    health: Mapping[str, Any] | None = None,
    created_at: int | None = CREATED_AT,
    updated_at: int | None = UPDATED_AT,
    activated: tuple[str, str] = ("admin", ACTIVATED_AT),
) -> dict[str, Any]:
    """One CatalogEntry, as the catalog generation's list, add and update answers hold it.

    ``definition`` must have an ``id`` (the entry's ``model_id``); it is deep-copied, and
    its ``provider`` and ``modelId`` are mirrored as ``provider`` and
    ``provider_model_id``. ``active`` makes its ``activation_state`` ``active`` (with
    ``activated``, who and when); otherwise it is ``available``, or
    ``available_name_blocked`` when ``blocker_source`` names the source holding the
    name. ``health`` defaults to available, checked at ``updated_at``.
    """
    stored = copy.deepcopy(dict(definition))
    if health is None:
        health = {
            "status": "available",
            "is_available": True,
            "last_health_check": updated_at,
            "error": None,
        }
    if active:
        state, blocker = "active", None
    elif blocker_source is not None:
        state, blocker = "available_name_blocked", blocker_source
    else:
        state, blocker = "available", None
    return {
        "model_id": stored["id"],
        "source": source,
        "origin": origin,
        "activation_state": state,
        "blocker_source": blocker,
        "activated_by": activated[0] if active else None,
        "activated_at": activated[1] if active else None,
        "provider": stored.get("provider", ""),
        "provider_model_id": stored.get("modelId", ""),
        "definition": stored,
        "health": copy.deepcopy(dict(health)),
        "created_at": created_at,
        "updated_at": updated_at,
        "effective_price": {"rates": None, "source": "unpriced"},
    }


def catalog_list(
    entries: Iterable[Mapping[str, Any]], currency: str | None = "USD"
) -> dict[str, Any]:
    """The catalog's list document, ``{"object": "list", "currency", "data": [...]}``,
    in the given order; the entries are deep-copied."""
    return {
        "object": "list",
        "currency": currency,
        "data": [copy.deepcopy(dict(entry)) for entry in entries],
    }


def minimal_definition(model_id: str, **fields: Any) -> dict[str, Any]:
    """A definition with only the fields the add endpoint requires, valid as it is.

    An ``openai-compatible`` model named ``model_id`` upstream, on the responses API,
    without auth, taking and giving text, no reasoning. ``fields`` are added after
    these, or replace them in place (so the key order stays that of the API reference).
    """
    return {
        "id": model_id,
        "provider": "openai-compatible",
        "modelId": model_id,
        "apiFormat": "responses",
        "apiProviderType": "openai",
        "created": 1_704_067_200,
        "auth": {"type": "none"},
        "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
        **fields,
    }


def review_plan() -> Plan:
    """A plan with one entry of every action kind, a live secret, a cleared field, a
    create stamped at apply, a requested replace and a breaking change, judged by the
    default policy, as renderers' golden files show it."""
    plan = Plan(
        changes=(
            Change(
                "meetkai:chat",
                Action.UPDATE,
                "5 top-level fields differ",
                file="models/chat.yaml",
                line=1,
                changes=(
                    FieldChange("apiFormat", ChangeKind.CHANGED, "responses", "chat-completions"),
                    FieldChange("auth.value", ChangeKind.REMOVED, "(sensitive)", None),
                    FieldChange(
                        "capabilities.modalities.input[1]", ChangeKind.ADDED, None, "image"
                    ),
                    FieldChange("contextWindow", ChangeKind.CHANGED, 8192, 16384),
                    FieldChange("rpm", ChangeKind.REMOVED, 60, None),
                ),
                patch={
                    "apiFormat": "chat-completions",
                    "auth": {"type": "none"},
                    "capabilities": {
                        "modalities": {"input": ["text", "image"], "output": ["text"]},
                        "reasoning": False,
                    },
                    "contextWindow": 16384,
                    "rpm": None,
                },
                live_fingerprint="sha256:aa",
            ),
            Change(
                "meetkai:embed",
                Action.REPLACE,
                "--replace asks to delete and re-create it",
                file="models/embed.yaml",
                line=3,
                body={"id": "meetkai:embed", "provider": "openai", "created": 1},
                live_fingerprint="sha256:bb",
            ),
            Change(
                "meetkai:new",
                Action.CREATE,
                "not in the registry",
                file="models/new.yaml",
                line=1,
                body={
                    "id": "meetkai:new",
                    "provider": "openai-compatible",
                    "auth": {"type": "custom-headers", "headers": {"X-Team": "ml"}},
                    "hidden": False,
                },
            ),
            Change(
                "meetkai:old",
                Action.DELETE,
                "not declared in models/ and --prune is set",
                live_fingerprint="sha256:cc",
            ),
            Change("meetkai:same", Action.NO_OP, "in sync", file="models/same.yaml", line=1),
            Change(
                "system:chat",
                Action.READ_ONLY,
                "immutable on the server (source 'yaml'): it can never be changed through "
                "the API; make models/ match it or remove the file",
                file="models/system.yaml",
                line=1,
                changes=(FieldChange("hidden", ChangeKind.ADDED, None, True),),
                live_fingerprint="sha256:dd",
                conflict=True,
            ),
            Change(
                "system:embed",
                Action.READ_ONLY,
                "immutable on the server; in sync",
                file="models/system.yaml",
                line=9,
            ),
            Change("team:legacy", Action.UNMANAGED, "not declared in models/; left alone"),
        ),
        models_dir="models",
        registry="https://registry.example",
        prune=True,
        immutable_undeclared=4,
    )
    return judge(plan, Rules())
