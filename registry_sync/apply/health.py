"""After apply: probe the entries it wrote, and put back those that came out unhealthy.

What it promises:

* Every created, updated or re-created entry whose write is done is probed through
  the registry's health endpoint, in parallel through the client's adaptive gate
  (the same retries and ``--timeout`` deadline as every request). Each is reported
  healthy, unhealthy (with the server's error, scrubbed of the key), unknown (the
  catalog cannot tell yet: neither healthy nor unhealthy, never rolled back) or not probed
  (with why: its write did not finish, or the probe itself failed).
* With ``rollback``, an unhealthy entry is put back as apply found it, from the live
  entry apply read just before writing (:attr:`ApplyResult.before`), never from
  models/: an update is reverted by a PATCH of the previous top-level values of the
  fields that differ now (null for a field it added), a create is deleted (last, and
  not while another entry reroutes to it), and a re-create is deleted and the
  previous definition POSTed again (its own ``created`` stamp included). The entry
  is then read again: the rollback succeeded only when its definition equals the
  one before the apply. Healthy entries stay as applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any

from registry_sync.apply.applier import ApplyResult, Outcome
from registry_sync.errors import RegistrySyncError
from registry_sync.live.client import HealthResult, RegistryClient
from registry_sync.live.entries import LiveEntry
from registry_sync.live.pacing import Pacer
from registry_sync.plan.model import Action
from registry_sync.schema.definition import api_problems
from registry_sync.schema.fields import NULLABLE_FIELDS
from registry_sync.schema.reroutes import rules_of

__all__ = [
    "EntryHealth",
    "HealthReport",
    "HealthState",
    "ModelHealth",
    "Rollback",
    "check_models",
    "probe",
    "revert_patch",
    "rollback_writes",
    "verify_apply",
]

_PROBED = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE})


class HealthState(str, Enum):
    """What the probe of one entry found."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    NOT_PROBED = "not-probed"
    # The catalog generation: the registry answered, but cannot tell yet.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Rollback:
    """How an unhealthy entry was put back: ``how`` is ``patch``, ``delete`` or
    ``re-create``; ``detail`` says what went wrong when it did not succeed."""

    how: str
    succeeded: bool
    detail: str


@dataclass(frozen=True)
class EntryHealth:
    """One written entry after apply.

    ``error`` is the server's error for an unhealthy entry, or why it was not probed;
    ``checked_at`` the probe's time in epoch milliseconds.
    """

    id: str
    action: Action
    state: HealthState
    error: str | None = None
    checked_at: float | None = None
    rollback: Rollback | None = None


@dataclass(frozen=True)
class HealthReport:
    """Every entry apply created, updated or re-created, in plan order."""

    entries: tuple[EntryHealth, ...] = ()

    @property
    def unhealthy(self) -> tuple[EntryHealth, ...]:
        return tuple(e for e in self.entries if e.state is HealthState.UNHEALTHY)

    @property
    def rollback_failed(self) -> bool:
        """True when some rollback was tried and did not succeed."""
        return any(e.rollback is not None and not e.rollback.succeeded for e in self.entries)


def probe(
    client: RegistryClient,
    ids: Sequence[str],
    *,
    parallelism: int = 4,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> dict[str, HealthResult | RegistrySyncError]:
    """Probe each of ``ids`` in parallel; a probe that fails gives its error.
    ``on_progress`` hears, in the calling thread, the probes done, in all, and how many
    of them failed or found the entry unavailable."""

    def one(model_id: str) -> HealthResult | RegistrySyncError:
        try:
            return client.check_health(model_id)
        except RegistrySyncError as exc:
            return exc

    if not ids:
        return {}
    with (
        client.paced(Pacer(parallelism)),
        ThreadPoolExecutor(parallelism, thread_name_prefix="registry-health") as pool,
    ):
        answers: dict[str, HealthResult | RegistrySyncError] = {}
        failed = 0
        for model_id, answer in zip(ids, pool.map(one, ids), strict=True):
            answers[model_id] = answer
            failed += isinstance(answer, RegistrySyncError) or answer.is_available is False
            if on_progress is not None:
                on_progress(len(answers), len(ids), failed)
        return answers


@dataclass(frozen=True)
class ModelHealth:
    """One managed entry's health as probed now (``registry-sync health``).

    ``is_available`` is None when it could not be probed: ``error`` then says why
    (not in the registry, or the probe failed).
    """

    id: str
    is_available: bool | None
    last_health_check: float | None = None
    error: str | None = None
    # The catalog generation's verdict: available, unavailable or unknown (neither
    # healthy nor unhealthy: is_available is then None, and error says so).
    status: str | None = None


UNKNOWN_STATUS = "the registry cannot tell yet (status unknown): neither healthy nor unhealthy"


def check_models(
    client: RegistryClient,
    ids: Sequence[str],
    present: Set[str],
    *,
    parallelism: int = 4,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> tuple[ModelHealth, ...]:
    """Probe each of ``ids`` that is in the registry (``present``), in the order given
    (``on_progress`` as :func:`probe` says)."""
    answers = probe(
        client,
        [i for i in ids if i in present],
        parallelism=parallelism,
        on_progress=on_progress,
    )
    rows: list[ModelHealth] = []
    for model_id in ids:
        answer = answers.get(model_id)
        if answer is None:
            rows.append(ModelHealth(model_id, None, None, "not in the registry"))
        elif isinstance(answer, RegistrySyncError):
            rows.append(ModelHealth(model_id, None, None, f"the probe failed: {answer}"))
        elif answer.status == "unknown":
            rows.append(ModelHealth(model_id, None, answer.checked_at, UNKNOWN_STATUS, "unknown"))
        else:
            available = (
                answer.is_available if answer.status is None else (answer.status == "available")
            )
            rows.append(
                ModelHealth(model_id, available, answer.checked_at, answer.error, answer.status)
            )
    return tuple(rows)


def verify_apply(
    result: ApplyResult,
    client: RegistryClient,
    *,
    rollback: bool = False,
    parallelism: int = 4,
) -> HealthReport:
    """Probe what ``result`` created, updated or re-created; with ``rollback``, put
    every unhealthy one back as it was before the apply."""
    written = [entry for entry in result.results if entry.action in _PROBED]
    done = [entry.id for entry in written if entry.outcome is Outcome.DONE]
    answers = probe(client, done, parallelism=parallelism)
    report: list[EntryHealth] = []
    for entry in written:
        answer = answers.get(entry.id)
        if answer is None:
            why = f"its {entry.action.value} did not finish ({entry.outcome.value})"
            report.append(EntryHealth(entry.id, entry.action, HealthState.NOT_PROBED, why))
        elif isinstance(answer, RegistrySyncError):
            why = f"the probe failed: {answer}"
            report.append(EntryHealth(entry.id, entry.action, HealthState.NOT_PROBED, why))
        else:
            if answer.status == "unknown":
                unknown = HealthState.UNKNOWN
                report.append(
                    EntryHealth(entry.id, entry.action, unknown, UNKNOWN_STATUS, answer.checked_at)
                )
                continue
            state = HealthState.HEALTHY if answer.is_available else HealthState.UNHEALTHY
            if answer.status is not None:
                state = HealthState.HEALTHY if answer.status == "available" else state
                state = HealthState.UNHEALTHY if answer.status == "unavailable" else state
            error = answer.error
            if state is HealthState.UNHEALTHY and error is None:
                error = "the registry gave no reason"
            report.append(EntryHealth(entry.id, entry.action, state, error, answer.checked_at))
    if rollback:
        report = rollback_writes(report, result.before, client)
    return HealthReport(tuple(report))


def rollback_writes(
    report: Sequence[EntryHealth], before: Mapping[str, LiveEntry], client: RegistryClient
) -> list[EntryHealth]:
    """``report`` with each unhealthy entry put back to ``before`` (one at a time:
    rollbacks are few, and each is checked by reading the entry again).

    Creates are deleted last, and only when no entry left in the registry reroutes
    to them: deleting a reroute target would break its referrer."""
    unhealthy = [entry for entry in report if entry.state is HealthState.UNHEALTHY]
    done: dict[str, Rollback] = {}
    for entry in unhealthy:
        if entry.action is not Action.CREATE:
            done[entry.id] = _roll_back(entry, before.get(entry.id), client)
    creates = {entry.id for entry in unhealthy if entry.action is Action.CREATE}
    if creates:
        try:
            referrers = _referrers(client.list_models(), creates)
        except RegistrySyncError as exc:
            why = f"the registry could not be read to check who reroutes to it: {exc}"
            done.update((model_id, Rollback("delete", False, why)) for model_id in creates)
        else:
            for entry in unhealthy:
                if entry.id in done:
                    continue
                sources = referrers.get(entry.id)
                if sources:
                    done[entry.id] = Rollback(
                        "delete",
                        False,
                        f"not deleted: {', '.join(sources)} reroutes to it; change "
                        "that first, or fix this entry",
                    )
                else:
                    done[entry.id] = _roll_back(entry, None, client)
    return [
        _with_rollback(entry, done[entry.id]) if entry.id in done else entry for entry in report
    ]


def _referrers(live: Sequence[LiveEntry], deleting: Set[str]) -> dict[str, list[str]]:
    """For each of ``deleting``, the entries that reroute to it and are not deleted too."""
    found: dict[str, list[str]] = {}
    for entry in live:
        if entry.id in deleting:
            continue
        for rule in rules_of(entry.id, entry.definition):
            if rule.target in deleting and entry.id not in found.get(rule.target, []):
                found.setdefault(rule.target, []).append(entry.id)
    return found


def _with_rollback(entry: EntryHealth, rollback: Rollback) -> EntryHealth:
    return EntryHealth(entry.id, entry.action, entry.state, entry.error, entry.checked_at, rollback)


def revert_patch(sent: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH that undoes one which set the keys of ``sent``: each key's previous
    value, null where the entry had none."""
    return {key: previous.get(key) for key in sent if key != "id"}


def _roll_back(entry: EntryHealth, previous: LiveEntry | None, client: RegistryClient) -> Rollback:
    how = {Action.CREATE: "delete", Action.UPDATE: "patch", Action.REPLACE: "re-create"}[
        entry.action
    ]
    if entry.action is not Action.CREATE and previous is None:
        return Rollback(how, False, "apply did not read the entry before writing it")
    try:
        if entry.action is Action.CREATE:
            client.remove_model(entry.id)
            if client.get_model(entry.id) is not None:
                return Rollback(how, False, "it is still in the registry after the DELETE")
            return Rollback(how, True, "deleted")
        assert previous is not None
        if entry.action is Action.UPDATE:
            now = client.get_model(entry.id)
            if now is None:
                return Rollback(how, False, "it is no longer in the registry")
            keys = [*now.definition, *(k for k in previous.definition if k not in now.definition)]
            changed = {
                key: None for key in keys if now.definition.get(key) != previous.definition.get(key)
            }
            stuck = sorted(
                k for k in changed if k not in previous.definition and k not in NULLABLE_FIELDS
            )
            if stuck:
                return Rollback(
                    how, False, f"the API cannot clear {', '.join(stuck)}: fix it by hand"
                )
            client.update_model(entry.id, revert_patch(changed, previous.definition))
        else:
            problems = api_problems(dict(previous.definition), update=False)
            if problems:
                # Deleting first would leave nothing: the API would refuse the old definition.
                return Rollback(
                    how,
                    False,
                    "the previous definition cannot be POSTed again "
                    f"({'; '.join(problems)}); put it back by hand",
                )
            client.remove_model(entry.id)
            try:
                client.add_model(previous.definition)
            except RegistrySyncError as exc:
                return Rollback(
                    how,
                    False,
                    f"it was deleted, but POSTing its previous definition failed: {exc}. The "
                    "entry is now missing: run `registry-sync apply` to create it from models/",
                )
        after = client.get_model(entry.id)
    except RegistrySyncError as exc:
        return Rollback(how, False, str(exc))
    if after is None or after.definition != previous.definition:
        return Rollback(
            how,
            False,
            "re-reading it afterwards shows it differs from before the apply; run "
            "`registry-sync plan` to see how",
        )
    return Rollback(how, True, "restored")
