"""The plan: plain frozen data describing what would change, with no I/O.

The planner builds it; renderers read it; the applier executes it. Reasons exist
only to explain the plan to people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from registry_sync.live.entries import LiveHealth
from registry_sync.schema.reroutes import RerouteEdge

__all__ = [
    "WRITING_ACTIONS",
    "Action",
    "Change",
    "ChangeKind",
    "FieldChange",
    "Plan",
    "Risk",
    "Violation",
]


class Action(str, Enum):
    """What happens to one registry entry. The values are the JSON plan's strings."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NO_OP = "no-op"
    READ_ONLY = "read-only"
    UNMANAGED = "unmanaged"
    # The catalog generation: a name served, or no longer served, with its definition
    # left as it is.
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


class Risk(str, Enum):
    """How much a change can hurt, as the policy judges it. The values are the JSON strings."""

    SAFE = "safe"
    BREAKING = "breaking"  # callers or traffic are affected
    DESTRUCTIVE = "destructive"  # an entry is deleted (or deleted and re-created)


class ChangeKind(str, Enum):
    """How one field differs: only in the file, only live, or in both with other values."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    """One field-level difference. ``before`` is live, ``after`` is desired.

    ``before`` is None when the field is absent live (ADDED), ``after`` is None when
    it is absent from the file (REMOVED). Secrets are already ``(sensitive)`` here.
    """

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None
    # "file:line" of the overlay that set the value (registry_sync.desired.overlay); None when
    # the value is the models/ file's, whose place is the change's file and line.
    origin: str | None = None


@dataclass(frozen=True)
class Change:
    """The planned action for one registry id.

    ``body`` is the full definition to POST (create, replace); a create whose file
    omits ``created`` has none, the applier stamps it at apply time. ``patch`` holds
    the changed top-level fields to PATCH (update), ``null`` for a field to clear;
    ``live_fingerprint`` identifies the
    live entry the action was computed from (None when there was none).
    ``conflict`` marks a read-only entry whose file differs from the server.
    ``live_health`` is the live entry's health as the list reported it, for an entry
    the plan writes or conflicts with, and for any declared entry reported
    unavailable; None otherwise, or when the server sent none.
    """

    id: str
    action: Action
    reason: str
    file: str | None = None
    line: int | None = None
    changes: tuple[FieldChange, ...] = ()
    body: Mapping[str, Any] | None = None
    patch: Mapping[str, Any] | None = None
    live_fingerprint: str | None = None
    conflict: bool = False
    live_health: LiveHealth | None = None
    # Filled by the policy step (registry_sync.plan.policy), never by the planner.
    risk: Risk = Risk.SAFE
    risk_reasons: tuple[str, ...] = ()
    # The catalog generation only. ``activate`` is the source apply activates the name
    # from once the definition is written (``byo``, ``serving`` or ``cluster``);
    # ``deactivate`` names the source apply deactivates first (the name's holder, for
    # a switch, or ``byo`` for a declared model kept inactive); ``held_by`` is another
    # source that serves the name, which no write may take it from (a violation).
    activate: str | None = None
    deactivate: str | None = None
    held_by: str | None = None


@dataclass(frozen=True)
class Violation:
    """A rule the plan breaks: apply refuses it. ``rule`` is a fixed string (``protect``,
    ``max-deletes``, ...); ``id`` is the entry concerned, None for the plan as a whole."""

    rule: str
    id: str | None
    message: str


# Actions that write to the registry when applied.
WRITING_ACTIONS = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.REPLACE,
        Action.DELETE,
        Action.ACTIVATE,
        Action.DEACTIVATE,
    }
)


# What the registry generation can plan: its JSON summary counts these only.
_REGISTRY_ACTIONS = tuple(a for a in Action if a not in (Action.ACTIVATE, Action.DEACTIVATE))


@dataclass(frozen=True)
class Plan:
    """Every planned change, sorted by id, plus what the plan was computed from.

    ``immutable_undeclared`` counts immutable live entries no file declares: they
    are counted, not listed. ``unknown_live_fields`` names the top-level fields
    live definitions hold that this version does not know: never compared, never sent.
    ``targets`` holds the ``--target`` patterns of a partial plan (empty: the whole
    registry); ``untargeted`` counts the mutable live entries a partial plan left out.
    """

    changes: tuple[Change, ...]
    models_dir: str
    registry: str
    prune: bool = False
    immutable_undeclared: int = 0
    unknown_live_fields: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    untargeted: int = 0
    # Filled by the policy step: the rules broken, and the reroute rules touching
    # changed entries (for the picture in the pull-request comment).
    violations: tuple[Violation, ...] = ()
    reroutes: tuple[RerouteEdge, ...] = ()
    # The environment of registry-sync.yaml the plan was made for; None without one.
    environment: str | None = None
    # The environment's own api_url when --api-url replaced it (the plan says so).
    environment_api_url: str | None = None
    # The API generation the registry speaks: ``registry`` or ``catalog``.
    api: str = "registry"

    @property
    def partial(self) -> bool:
        """True when ``--target`` limited the plan to some ids."""
        return bool(self.targets)

    def count(self, action: Action) -> int:
        """How many changes have ``action``."""
        return sum(1 for change in self.changes if change.action is action)

    @property
    def conflicts(self) -> tuple[Change, ...]:
        """Read-only entries whose declared definition differs: never appliable."""
        return tuple(change for change in self.changes if change.conflict)

    @property
    def writes(self) -> tuple[Change, ...]:
        """The changes that write to the registry."""
        return tuple(change for change in self.changes if change.action in WRITING_ACTIONS)

    @property
    def down(self) -> tuple[Change, ...]:
        """The changes whose live entry the registry reports unavailable now."""
        return tuple(
            change
            for change in self.changes
            if change.live_health is not None and not change.live_health.is_available
        )

    @property
    def has_changes(self) -> bool:
        """True when applying would write something or a read-only conflict exists."""
        return bool(self.writes) or bool(self.conflicts)

    def risk_counts(self) -> dict[str, int]:
        """How many writes are in each risk class, by the class's string."""
        counts = {risk.value: 0 for risk in Risk}
        for change in self.writes:
            counts[change.risk.value] += 1
        return counts

    def summary(self) -> dict[str, int]:
        """A count per action string, plus ``conflict`` and ``immutable-undeclared``."""
        by_action = Counter(change.action for change in self.changes)
        actions = Action if self.api == "catalog" else _REGISTRY_ACTIONS
        counts = {action.value: by_action[action] for action in actions}
        counts["conflict"] = len(self.conflicts)
        counts["immutable-undeclared"] = self.immutable_undeclared
        return counts
