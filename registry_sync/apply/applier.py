"""Plan + client -> result: carries out a plan's writes against the registry.

It never prints: progress goes to the ``on_event`` callback, always called from the
calling thread, and everything else is in the returned :class:`ApplyResult`.

What it promises:

* Nothing is written unless the live entries the plan touches are still the ones it
  was computed from, none is immutable, every write does exactly what the plan shows,
  and the plan has no read-only conflict (:class:`ApplyRefused`).
* Order: a model named by another's ``rerouteRules[].targetModelId`` is created before
  its referrer and deleted after it; a replace is a DELETE, then a POST. Entries
  without such a link run concurrently, ``parallelism`` requests at a time.
* A failed write does not stop the others; only the entries that wait for it are
  skipped, each with the reason. A write whose answer is an error is checked by
  re-reading the entry: if the registry already holds what was sent (a 409 for an
  entry an earlier run created, an answer lost with the connection) it counts as
  done. Every request passes an adaptive gate (:mod:`registry_sync.live.pacing`): 429s
  slow the run down, successes speed it up again, never past ``parallelism``
  requests at once nor ``max_rps`` per second; a write still rate limited after the
  client's retries goes back in the queue.
* A replace whose POST fails after its DELETE says so and carries the definition to
  restore (from models/, so it holds no secret).
* Afterwards the registry is read again and every entry written is confirmed to
  match; one that does not is reported as failed.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from typing import Any, TypeAlias

from registry_sync.apply.preflight import (
    refusal,
    stale_changes,
    unaddressable_changes,
    unshown_changes,
)
from registry_sync.errors import ApiError, ApplyRefused, RegistrySyncError
from registry_sync.live.client import RegistryClient
from registry_sync.live.entries import LiveEntry
from registry_sync.live.pacing import Pacer, RateMeter
from registry_sync.plan.compare import comparable, field_changes, known_part, top_key
from registry_sync.plan.model import Action, Change, ChangeKind, FieldChange, Plan
from registry_sync.plan.policy import conflict_reasons
from registry_sync.settings.defaults import DEFAULT_PARALLELISM
from registry_sync.settings.ignore import IgnoreRule

__all__ = [
    "ApplyEvent",
    "ApplyResult",
    "EntryFinished",
    "EntryResult",
    "Outcome",
    "Throttled",
    "apply_plan",
    "check_before_writing",
]

# A write still rate limited after the client's own retries goes back in the queue
# this many times (the gate has slowed down meanwhile) before it counts as failed.
_RATE_LIMIT_REQUEUES = 3
# Progress reports the writes finished per second over this many seconds.
_RATE_WINDOW = 2.0
_POSTING = frozenset({Action.CREATE, Action.REPLACE})
_DELETING = frozenset({Action.DELETE, Action.REPLACE})
# Refusals an earlier write of the same change explains: it exists, it is gone.
_ALREADY_STATUSES = frozenset({404, 409})
_DONE_WORDS = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.ACTIVATE: "activated",
    Action.DEACTIVATE: "deactivated",
}
# Writes of the definition itself; activation and deactivation write who serves it.
_DEFINING = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE})


class Outcome(str, Enum):
    """How one planned write ended."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class EntryResult:
    """The end of one planned write.

    ``detail`` says what happened for people: the error for a failure (status and
    server message, never the key), the reason for a skip. ``status`` is the HTTP
    status of the failure when the server answered. ``wrote`` is True when this run
    changed the entry in the registry, or may have. ``restore`` is the definition of
    a replaced entry whose DELETE landed and whose POST did not.
    """

    id: str
    action: Action
    outcome: Outcome
    detail: str
    status: int | None = None
    wrote: bool = False
    restore: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EntryFinished:
    """Progress: ``result`` has just ended; ``done`` of ``total`` writes have.

    ``rate`` is how many writes ended per second over the last two seconds, None
    during the first two.
    """

    result: EntryResult
    done: int
    total: int
    rate: float | None = None


@dataclass(frozen=True)
class Throttled:
    """The registry kept rate limiting: apply goes on with ``parallelism`` requests at
    once and, when ``rate`` is set, at most that many per second."""

    parallelism: int
    rate: float | None = None


ApplyEvent: TypeAlias = EntryFinished | Throttled


@dataclass(frozen=True)
class ApplyResult:
    """Every planned write's end, in plan order (by id).

    ``unconfirmed`` is set when the registry could not be read again afterwards to
    confirm the writes; ``interrupted`` when the run was stopped (Ctrl-C) and the
    writes not yet started were skipped. ``before`` holds, for each planned write
    whose entry existed, the live entry as apply read it just before writing (what
    a rollback restores). ``already_applied`` is set, with no results, when the plan
    was stale only because the registry already held every one of its writes.
    """

    registry: str
    results: tuple[EntryResult, ...] = field(default=())
    unconfirmed: str | None = None
    interrupted: bool = False
    before: Mapping[str, LiveEntry] = field(default_factory=dict)
    # Every write of the plan already held before this run (a plan applied twice).
    already_applied: bool = False

    def count(self, outcome: Outcome, action: Action | None = None) -> int:
        """How many writes ended with ``outcome`` (and were of ``action``, if given)."""
        return sum(
            1
            for result in self.results
            if result.outcome is outcome and (action is None or result.action is action)
        )

    @property
    def complete(self) -> bool:
        """True when every planned write is done."""
        return all(result.outcome is Outcome.DONE for result in self.results)

    @property
    def wrote(self) -> bool:
        """True when this run changed (or may have changed) the registry."""
        return any(result.wrote for result in self.results)


def apply_plan(
    plan: Plan,
    client: RegistryClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    max_rps: float | None = None,
    ignore: Sequence[IgnoreRule] = (),
    server_defaults: Mapping[str, Any] | None = None,
    on_event: Callable[[ApplyEvent], None] | None = None,
) -> ApplyResult:
    """Carry out every write of ``plan`` through ``client`` and confirm the result.

    Raises :class:`ApplyRefused` before writing anything when the plan has a
    read-only conflict or is stale (one whose every write the registry already holds
    is not: the result says ``already_applied``; one partly applied is, naming what
    is left), and a :class:`RegistryError` when the registry
    cannot be read first. ``ignore`` and ``server_defaults`` are the rules the plan
    was made with, so that the final check compares as the planner does. A create
    whose body has no ``created`` is stamped with the time of the write. At most
    ``parallelism`` requests run at once and, with ``max_rps``, at most that many
    start per second.
    """
    if parallelism < 1:
        raise ValueError("parallelism must be at least 1")
    pacer = Pacer(parallelism, max_rps=max_rps)
    rules = _Rules(tuple(ignore), dict(server_defaults or {}))
    live = _checked_before_writing(plan, client, rules)
    if live is None:
        # Applied before (a saved plan applied twice): the registry holds it all.
        return ApplyResult(plan.registry, already_applied=True)
    writes = plan.writes
    if not writes:
        return ApplyResult(plan.registry)
    before = {change.id: live[change.id] for change in writes if change.id in live}
    run = _Run(writes, _prerequisites(writes, live), client, pacer, rules, on_event)
    with client.paced(pacer):
        results, interrupted = run.execute()
    try:
        results, unconfirmed = _confirm(results, writes, client, rules, plan.models_dir)
    except KeyboardInterrupt:
        unconfirmed = "interrupted (Ctrl-C) before the registry was read again"
        interrupted = True
    return ApplyResult(plan.registry, results, unconfirmed, interrupted, before)


def check_before_writing(
    plan: Plan,
    client: RegistryClient,
    *,
    ignore: Sequence[IgnoreRule] = (),
    server_defaults: Mapping[str, Any] | None = None,
) -> bool:
    """Every check :func:`apply_plan` runs before its first write, and nothing else
    (``apply --dry-run`` runs them so it refuses what apply refuses). Raises
    :class:`ApplyRefused` as apply would; returns False when the registry already
    holds every write of ``plan`` (apply would send nothing and report it so)."""
    rules = _Rules(tuple(ignore), dict(server_defaults or {}))
    return _checked_before_writing(plan, client, rules) is not None


def _checked_before_writing(
    plan: Plan, client: RegistryClient, rules: _Rules
) -> dict[str, LiveEntry] | None:
    """The live entries by id when ``plan`` may be applied; None when every write has
    landed already. Raises :class:`ApplyRefused` naming every reason not to write."""
    unaddressable = unaddressable_changes(plan)
    if unaddressable:
        raise refusal(
            unaddressable,
            "The plan names ids no request can carry safely: it was edited since it was "
            "made. Run `registry-sync plan` again, review it, and apply the new plan.",
        )
    conflicts = conflict_reasons(plan)
    if conflicts:
        raise refusal(conflicts, "Then plan again.")
    live = {entry.id: entry for entry in client.list_models()}
    stale = stale_changes(plan, list(live.values()))
    if stale:
        landed = {c.id for c in plan.writes if _landed(c, live.get(c.id), rules)}
        if len(landed) == len(plan.writes):
            return None
        raise _stale_refusal(plan, stale, landed)
    unshown = unshown_changes(plan, list(live.values()), rules.ignore, rules.server_defaults)
    if unshown:
        raise refusal(
            unshown,
            "The plan does not show what apply would write: it was edited or damaged "
            "since it was made. Run `registry-sync plan` again, review it, and apply the "
            "new plan.",
        )
    return live


def _landed(change: Change, entry: LiveEntry | None, rules: _Rules) -> bool:
    """True when the registry already holds what ``change`` asks (``entry``: its live
    entry, None when absent), as the final check after a write compares: the name
    served as planned, and deleted, or holding exactly the body or the patched fields.
    Stricter than that check, which lets fields the server added pass: here nothing
    is written, and an entry holding more than the plan sent is not as planned."""
    final = Action.CREATE if change.action is Action.REPLACE else change.action
    return _serves(change, entry) and _holds(change, final, entry, rules)


def _stale_refusal(plan: Plan, stale: Sequence[str], landed: set[str]) -> ApplyRefused:
    """The refusal of a stale plan. One partly applied (some writes already hold, others
    do not) names what is left: it is never applied in part, as it was not reviewed so."""
    if not landed:
        return refusal(
            stale,
            "The registry changed since the plan was made: run `registry-sync plan` again, "
            "review it, and apply the new plan.",
        )
    left = [change for change in plan.writes if change.id not in landed]
    changed = {reason.split(": ", 1)[0]: reason for reason in stale}
    reasons = [
        changed.get(change.id, f"{change.id}: not {_DONE_WORDS[change.action]} yet")
        for change in left
    ]
    reasons.append(f"already as planned: {', '.join(sorted(landed))}")
    return refusal(
        reasons,
        f"The plan was partly applied ({len(landed)} of {len(plan.writes)} writes hold): "
        "run `registry-sync plan` again, review what is left, and apply the new plan.",
    )


# -- one write -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Sent:
    """One request's end: ``holds`` when the registry now has what was asked."""

    holds: bool
    wrote: bool
    error: RegistrySyncError | None = None
    note: str = ""

    @property
    def rate_limited(self) -> bool:
        return isinstance(self.error, ApiError) and self.error.status == 429


@dataclass(frozen=True)
class _Attempt:
    result: EntryResult
    rate_limited: bool = False


class _Writer:
    """Sends the requests of one change; called from the pool's threads."""

    def __init__(self, client: RegistryClient, rules: _Rules) -> None:
        self.client = client
        self.rules = rules

    def attempt(self, change: Change) -> _Attempt:
        if change.action is Action.REPLACE:
            defined = self._replace(change)
        elif change.action in _DEFINING:
            sent = self._send(change, change.action)
            if not sent.holds:
                return _Attempt(_failed(change, sent), rate_limited=sent.rate_limited)
            defined = _Attempt(_done(change, sent))
        else:
            defined = None
        if defined is not None and defined.result.outcome is not Outcome.DONE:
            return defined
        return self._serve(change, defined)

    def _serve(self, change: Change, defined: _Attempt | None) -> _Attempt:
        """The activation writes of ``change`` (the catalog generation), once its
        definition is written: the holder deactivated first, then the name activated,
        so that the name points at nothing for as short a time as can be."""
        if change.deactivate is None and change.activate is None:
            assert defined is not None
            return defined
        wrote = defined is not None and defined.result.wrote
        steps: list[tuple[str, Callable[[], None]]] = []
        if change.deactivate is not None:
            steps.append(
                (
                    f"deactivating it from {change.deactivate}",
                    partial(self.client.deactivate, change.id),
                )
            )
        if change.activate is not None:
            steps.append(
                (
                    f"activating it from {change.activate}",
                    partial(self.client.activate, change.id, change.activate),
                )
            )
        for what, step in steps:
            try:
                step()
            except RegistrySyncError as exc:
                sent = self._reconcile_serving(change, exc)
                if not sent.holds:
                    first = "its definition was written, but " if defined is not None else ""
                    result = _failed(
                        change, replace(sent, wrote=wrote or sent.wrote), f"{first}{what}"
                    )
                    return _Attempt(result, rate_limited=sent.rate_limited)
            wrote = True
        words = _DONE_WORDS[change.action]
        if change.action in _DEFINING:
            words += " and " + ("activated" if change.activate is not None else "deactivated")
        return _Attempt(EntryResult(change.id, change.action, Outcome.DONE, words, wrote=True))

    def _reconcile_serving(self, change: Change, error: RegistrySyncError) -> _Sent:
        """After a failed activation write, whether the registry serves the name as
        planned anyway (an earlier run's write, or one whose answer was lost)."""
        return self._read_back(change, error, lambda entry: _serves(change, entry))

    def _replace(self, change: Change) -> _Attempt:
        removed = self._send(change, Action.DELETE)
        if not removed.holds:
            failed = _failed(change, removed, "its DELETE (the first half of the replace)")
            return _Attempt(failed, rate_limited=removed.rate_limited)
        created = self._send(change, Action.CREATE)
        if created.holds:
            return _Attempt(_done(change, created, wrote=True))
        assert created.error is not None and change.body is not None
        detail = (
            f"{change.id} WAS DELETED, BUT RE-CREATING IT FAILED: {created.error}. "
            "The entry is now missing from the registry. Run `registry-sync apply` again "
            "to re-create it from models/, or restore it with the definition below."
        )
        result = EntryResult(
            change.id,
            change.action,
            Outcome.FAILED,
            detail,
            status=_status(created.error),
            wrote=True,
            restore=change.body,
        )
        return _Attempt(result, rate_limited=created.rate_limited)

    def _send(self, change: Change, action: Action) -> _Sent:
        try:
            if action is Action.CREATE:
                assert change.body is not None
                self.client.add_model(_stamped(change.body))
            elif action is Action.UPDATE:
                assert change.patch is not None
                self.client.update_model(change.id, change.patch)
            else:
                self.client.remove_model(change.id)
        except RegistrySyncError as exc:
            return self._reconcile(change, action, exc)
        return _Sent(holds=True, wrote=True)

    def _reconcile(self, change: Change, action: Action, error: RegistrySyncError) -> _Sent:
        """After a failed write, ask the registry whether it holds what was sent anyway:
        after an answer that may hide a landed write (5xx, a dropped connection, a bad
        body), and after a 409 or 404 that an earlier run's write would explain."""
        # Fields the server added do not make a landed write fail; _confirm names them.
        return self._read_back(
            change,
            error,
            lambda entry: (
                _holds(change, action, entry, self.rules)
                or bool(_server_added(change, action, entry, self.rules))
            ),
        )

    def _read_back(
        self,
        change: Change,
        error: RegistrySyncError,
        landed: Callable[[LiveEntry | None], bool],
    ) -> _Sent:
        """Whether a write that failed with ``error`` landed after all, as ``landed``
        judges the entry read back: never asked after a plain refusal (a 4xx but 404
        and 409, which an earlier write would explain)."""
        status = _status(error)
        refused = status is not None and 400 <= status < 500
        if refused and status not in _ALREADY_STATUSES:
            return _Sent(holds=False, wrote=False, error=error)
        try:
            entry = self.client.get_model(change.id)
        except RegistrySyncError as again:
            # A 4xx was refused outright; anything else may have landed unseen.
            return _Sent(
                holds=False,
                wrote=not refused,
                error=error,
                note=f"re-reading it to check failed too: {again}",
            )
        if landed(entry):
            note = (
                "the registry already had it"
                if refused
                else "no usable answer, but re-reading the registry shows it landed"
            )
            return _Sent(holds=True, wrote=not refused, note=note)
        return _Sent(holds=False, wrote=False, error=error)


@dataclass(frozen=True)
class _Rules:
    """How the plan compared: ignored fields and server defaults."""

    ignore: tuple[IgnoreRule, ...]
    server_defaults: Mapping[str, Any]


def _stamped(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body to POST: the add endpoint requires ``created``, stamped now when the
    file declares none (at apply time, so that plans of the same inputs are equal)."""
    if "created" in body:
        return body
    return {**body, "created": int(time.time())}


def _serves(change: Change, entry: LiveEntry | None) -> bool:
    """True when the name of ``change`` is served as the change asks (the catalog
    generation): from the source it activates, or (deactivated) not from the one it
    deactivates. True for a change that asks nothing of activation."""
    if change.activate is None and change.deactivate is None:
        return True
    active = None if entry is None or entry.activation is None else entry.activation.active
    if change.activate is not None:
        return active == change.activate
    return active != change.deactivate


def _holds(change: Change, action: Action, entry: LiveEntry | None, rules: _Rules) -> bool:
    """True when ``entry`` (None: absent) is what ``action`` of ``change`` asks for, as
    the planner compares: deleted, or holding the body sent, or the patched fields
    (a field patched with null absent); an activation, served as asked."""
    if action is Action.DELETE:
        return entry is None
    if action in (Action.ACTIVATE, Action.DEACTIVATE):
        return _serves(change, entry)
    if entry is None or entry.immutable:
        return False
    return not _differences(change, action, entry, rules)


def _differences(
    change: Change, action: Action, entry: LiveEntry, rules: _Rules
) -> tuple[FieldChange, ...]:
    """How ``entry`` differs from what the write of ``change`` sent."""
    sent = change.patch if action is Action.UPDATE else change.body
    assert sent is not None
    sent = known_part(sent)
    wanted, have = comparable(change.id, sent, entry, rules.ignore, rules.server_defaults)
    if action is Action.UPDATE:
        have = {key: value for key, value in have.items() if key in sent}
    if wanted == have:
        return ()
    return field_changes(have, wanted)


def _done(change: Change, sent: _Sent, *, wrote: bool | None = None) -> EntryResult:
    detail = _DONE_WORDS[change.action] + (f" ({sent.note})" if sent.note else "")
    return EntryResult(
        change.id,
        change.action,
        Outcome.DONE,
        detail,
        wrote=sent.wrote if wrote is None else wrote,
    )


def _failed(change: Change, sent: _Sent, part: str = "") -> EntryResult:
    assert sent.error is not None
    where = f"{part} failed: " if part else ""
    note = f" ({sent.note})" if sent.note else ""
    return EntryResult(
        change.id,
        change.action,
        Outcome.FAILED,
        f"{where}{sent.error}{note}",
        status=_status(sent.error),
        wrote=sent.wrote,
    )


def _status(error: RegistrySyncError) -> int | None:
    return error.status if isinstance(error, ApiError) else None


# -- order -----------------------------------------------------------------------------


def _prerequisites(
    writes: Sequence[Change], live: Mapping[str, LiveEntry]
) -> dict[str, dict[str, str]]:
    """For each write, the writes that must finish first, each with why.

    A write that sends a reference to a model created here waits for that POST; the
    DELETE of a model waits for every referrer whose write drops the reference.
    Links inside a reference cycle (A reroutes to B, B to A) are dropped: no order
    satisfies them, so those writes run in any order.
    """
    posting = {change.id for change in writes if change.action in _POSTING}
    deleting = {change.id for change in writes if change.action in _DELETING}
    waits: dict[str, dict[str, str]] = {change.id: {} for change in writes}
    for change in writes:
        entry = live.get(change.id)
        before = _targets(entry.definition) if entry is not None else set()
        after = _targets_after(change, before)
        for target in sorted((after & posting) - {change.id}):
            waits[change.id][target] = f"it reroutes to {target}"
        for target in sorted((before - after) & deleting - {change.id}):
            waits[target][change.id] = f"{change.id} reroutes to it"
    component = _components(sorted(waits), waits)
    return {
        node: {first: why for first, why in firsts.items() if component[first] != component[node]}
        for node, firsts in waits.items()
    }


def _targets(definition: Mapping[str, Any]) -> set[str]:
    rules = definition.get("rerouteRules")
    if not isinstance(rules, list):
        return set()
    return {
        rule["targetModelId"]
        for rule in rules
        if isinstance(rule, dict) and isinstance(rule.get("targetModelId"), str)
    }


def _targets_after(change: Change, before: set[str]) -> set[str]:
    """The models ``change``'s entry reroutes to once it is written."""
    if change.action is Action.DELETE:
        return set()
    if change.action in (Action.ACTIVATE, Action.DEACTIVATE):
        return before
    if change.action is Action.UPDATE:
        assert change.patch is not None
        return _targets(change.patch) if "rerouteRules" in change.patch else before
    assert change.body is not None
    return _targets(change.body)


def _components(nodes: Sequence[str], waits: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """The strongly connected component of each node (Tarjan's algorithm, iterative,
    so a long chain of references cannot exhaust the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = 0
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(waits[root])))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(waits[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    components += 1
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = components
                        if member == node:
                            break
    return component


# -- running ---------------------------------------------------------------------------


class _Run:
    """Schedules the writes on a thread pool, in dependency order, from this thread."""

    def __init__(
        self,
        writes: Sequence[Change],
        waits: Mapping[str, Mapping[str, str]],
        client: RegistryClient,
        pacer: Pacer,
        rules: _Rules,
        on_event: Callable[[ApplyEvent], None] | None,
    ) -> None:
        self.changes = {change.id: change for change in writes}
        self.position = {change.id: index for index, change in enumerate(writes)}
        self.waits = {node: dict(firsts) for node, firsts in waits.items()}
        self.dependents: dict[str, list[str]] = {node: [] for node in waits}
        for node, firsts in waits.items():
            for first in firsts:
                self.dependents[first].append(node)
        self.writer = _Writer(client, rules)
        # The pool has a thread per possible request; the pacer decides how many send.
        self.pacer = pacer
        self.parallelism = pacer.parallelism
        self.reported = pacer.parallelism
        self.finishing = RateMeter(_RATE_WINDOW)
        self.on_event = on_event
        self.results: dict[str, EntryResult] = {}
        self.ready: list[tuple[int, str]] = []

    def execute(self) -> tuple[tuple[EntryResult, ...], bool]:
        """Run every write; returns the results in plan order and whether interrupted."""
        for node, firsts in self.waits.items():
            if not firsts:
                heapq.heappush(self.ready, (self.position[node], node))
        requeued: dict[str, int] = {}
        wrote_earlier: set[str] = set()
        interrupted = False
        abandoned = False
        running: dict[Future[_Attempt], str] = {}
        pool = ThreadPoolExecutor(self.parallelism, thread_name_prefix="registry-apply")
        try:
            while running or (self.ready and not interrupted):
                try:
                    while self.ready and not interrupted and len(running) < self.parallelism:
                        _, node = heapq.heappop(self.ready)
                        running[pool.submit(self.writer.attempt, self.changes[node])] = node
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in sorted(finished, key=lambda f: self.position[running[f]]):
                        self._settle(future, running, requeued, wrote_earlier, interrupted)
                except KeyboardInterrupt:
                    if interrupted:
                        # A second Ctrl-C: stop waiting. What was in flight may have landed.
                        abandoned = True
                        break
                    # Requests in flight finish (their fate must be known); no new ones start.
                    interrupted = True
        except KeyboardInterrupt:  # a second Ctrl-C outside the wait: the same
            interrupted = abandoned = True
        finally:
            pool.shutdown(wait=not abandoned, cancel_futures=True)
        for node in sorted(running.values(), key=self.position.__getitem__):
            if node not in self.results:
                self._finish(
                    EntryResult(
                        node,
                        self.changes[node].action,
                        Outcome.FAILED,
                        "interrupted again while its request was in flight: it may or may not "
                        "have landed; run `registry-sync plan` to see",
                        wrote=True,
                    )
                )
        for node in self.changes:
            if node not in self.results:
                self._finish(
                    EntryResult(
                        node,
                        self.changes[node].action,
                        Outcome.SKIPPED,
                        "not started: apply was interrupted",
                    )
                )
        ordered = tuple(self.results[change] for change in self.changes)
        return ordered, interrupted

    def _settle(
        self,
        future: Future[_Attempt],
        running: dict[Future[_Attempt], str],
        requeued: dict[str, int],
        wrote_earlier: set[str],
        interrupted: bool,
    ) -> None:
        """Record one finished request (or queue it again).

        The future leaves ``running`` only once handled, so an interrupt in between
        never loses it."""
        node = running[future]
        attempt = future.result()
        if attempt.result.wrote:
            wrote_earlier.add(node)
        if (
            attempt.rate_limited
            and not interrupted
            and requeued.get(node, 0) < _RATE_LIMIT_REQUEUES
        ):
            requeued[node] = requeued.get(node, 0) + 1
            # The pacer has slowed down already; say so once per new limit.
            if self.pacer.limit != self.reported:
                self.reported = self.pacer.limit
                self._emit(Throttled(self.reported, self.pacer.rate))
            heapq.heappush(self.ready, (self.position[node], node))
        elif node not in self.results:
            result = attempt.result
            if node in wrote_earlier and not result.wrote:
                result = replace(result, wrote=True)
            self._finish(result)
        del running[future]

    def _finish(self, first: EntryResult) -> None:
        """Record a result: release the writes waiting for it, or skip them (and theirs)."""
        ended = [first]
        while ended:
            result = ended.pop(0)
            self.results[result.id] = result
            self.finishing.add()
            rate = self.finishing.rate(settled=True)
            self._emit(EntryFinished(result, len(self.results), len(self.changes), rate))
            for dependent in self.dependents[result.id]:
                if dependent in self.results or result.id not in self.waits[dependent]:
                    continue
                why = self.waits[dependent].pop(result.id)
                if result.outcome is Outcome.DONE:
                    if not self.waits[dependent]:
                        heapq.heappush(self.ready, (self.position[dependent], dependent))
                    continue
                how = "failed" if result.outcome is Outcome.FAILED else "was skipped"
                word = self.changes[result.id].action.value
                self.waits[dependent].clear()
                ended.append(
                    EntryResult(
                        dependent,
                        self.changes[dependent].action,
                        Outcome.SKIPPED,
                        f"waits for {result.id} ({why}), whose {word} {how}",
                    )
                )

    def _emit(self, event: ApplyEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)


# -- confirming ------------------------------------------------------------------------


def _confirm(
    results: tuple[EntryResult, ...],
    writes: Sequence[Change],
    client: RegistryClient,
    rules: _Rules,
    models_dir: str,
) -> tuple[tuple[EntryResult, ...], str | None]:
    """Re-read the registry; a write reported done whose entry does not match fails,
    unless the only difference is fields the server added, which is reported."""
    if not any(result.outcome is Outcome.DONE for result in results):
        return results, None
    try:
        live = {entry.id: entry for entry in client.list_models()}
    except RegistrySyncError as exc:
        return results, str(exc)
    changes = {change.id: change for change in writes}
    confirmed: list[EntryResult] = []
    for result in results:
        change = changes[result.id]
        final = Action.CREATE if change.action is Action.REPLACE else change.action
        entry = live.get(change.id)
        if result.outcome is Outcome.DONE and not _serves(change, entry):
            result = replace(
                result,
                outcome=Outcome.FAILED,
                detail=f"{result.detail}, but re-reading the registry afterwards shows the "
                "name is not served as planned (did something else change it?); run "
                "`registry-sync plan` to see how",
            )
        elif result.outcome is Outcome.DONE and not _holds(change, final, entry, rules):
            added = _server_added(change, final, entry, rules)
            if added:
                result = replace(
                    result,
                    detail=f"{result.detail}; it landed, and the server added "
                    f"{', '.join(added)}, which {models_dir}/ does not declare: add it to "
                    "server_defaults in registry-sync.yaml (or to the file), or the next "
                    "plan shows it as drift",
                )
            else:
                result = replace(
                    result,
                    outcome=Outcome.FAILED,
                    detail=f"{result.detail}, but re-reading the registry afterwards shows "
                    "it differs (did something else change it?); run `registry-sync plan` "
                    "to see how",
                )
        confirmed.append(result)
    return tuple(confirmed), None


def _server_added(
    change: Change, action: Action, entry: LiveEntry | None, rules: _Rules
) -> list[str]:
    """``path: value`` for each field the server holds that the write did not send,
    when that is the only difference; empty otherwise."""
    if action not in (Action.CREATE, Action.UPDATE) or entry is None or entry.immutable:
        return []
    differences = _differences(change, action, entry, rules)
    cleared = {key for key, value in (change.patch or {}).items() if value is None}
    if not all(
        item.kind is ChangeKind.REMOVED and top_key(item.path) not in cleared
        for item in differences
    ):
        return []
    return [f"{item.path}: {json.dumps(item.before)}" for item in differences]
