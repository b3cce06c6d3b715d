"""``pull``: the live registry in; the files that declare its entries edited in place
to hold what it holds (comments and layout kept), and what was left alone and why
out. ``export --merge`` is this with ``include_new``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from registry_sync.desired.bounds import LoadLimits
from registry_sync.desired.checks import Warn
from registry_sync.desired.load import load_effective
from registry_sync.errors import EditRefused, ExportError
from registry_sync.export.files import Export, plan_export, write_export
from registry_sync.export.pull import Skipped, apply_edits, pull_edits
from registry_sync.live.catalog import BYO
from registry_sync.live.sources import LiveState
from registry_sync.operations.inputs import desired_and_live
from registry_sync.operations.plan import PlanRequest, plan_from
from registry_sync.plan.compare import top_key
from registry_sync.printable import printable
from registry_sync.yamlio.roundtrip import check_reads_back, write_edited

__all__ = ["PullOutcome", "PullRequest", "pull"]

_EXCLUDED = "models/ declares it and this environment's overlay excludes it: left out"


@dataclass(frozen=True)
class PullRequest:
    """Pull what ``plan`` names (its settings, registry and ``--target`` patterns)
    into the files; ``dry_run`` writes nothing; ``include_new`` also writes the live
    entries no file declares, as export lays them out below the models folder."""

    plan: PlanRequest
    dry_run: bool = False
    include_new: bool = False


@dataclass(frozen=True)
class PullOutcome:
    """What a pull changed (or, dry, would change): the unified diff of every file,
    the files edited and created, the ids pulled, what was left alone, the secrets
    not written (id, field, what to do) and how many live entries no file declares
    were left out. Every string is safe to print."""

    diff: str
    changed: tuple[str, ...]
    created: tuple[str, ...]
    pulled: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    secrets: tuple[tuple[str, str, str], ...]
    left_out: int
    dry_run: bool


def pull(request: PullRequest, warn: Warn | None = None) -> PullOutcome:
    """Plan as ``plan`` would, then write each value the registry holds for an entry
    the plan would update into the file that set it. Every edited file is read back
    by the loader before anything is written (see
    :func:`~registry_sync.yamlio.roundtrip.write_edited`); new files are written as
    export writes them, never beside an existing declaration of the same id."""
    settings = request.plan.settings
    scope = settings.scope()
    desired, state = desired_and_live(
        settings.models_dir,
        request.plan.source,
        config=scope,
        strict=request.plan.strict,
        cache=request.plan.cache,
    )
    computed = plan_from(request.plan, desired, state, warn)
    base = None
    if scope.environment is not None:
        # The files as written, without the environment's overlay and variables.
        limits = LoadLimits.of(scope)
        models = load_effective(settings.models_dir, None, request.plan.cache, state.api, limits)
        base = {definition.id: definition for definition in models.definitions}
    found = pull_edits(
        computed,
        desired.definitions,
        state.entries,
        ignore=settings.ignore,
        server_defaults=settings.server_defaults,
        base=base,
    )
    files, left_alone = apply_edits(found.edits)
    # An id models/ declares and the environment's overlay excludes is no new entry.
    excluded = [model_id for model_id in found.undeclared if model_id in (base or {})]
    left_alone += [Skipped(model_id, "", _EXCLUDED) for model_id in excluded]
    undeclared = tuple(model_id for model_id in found.undeclared if model_id not in excluded)
    new = _new_files(state, undeclared) if request.include_new else None
    diff: list[str] = []
    changed: list[str] = []
    for file in files:
        text = file.render()
        if text == file.text:
            continue
        check_reads_back(file, text)
        changed.append(file.shown)
        diff.extend(
            difflib.unified_diff(
                file.text.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"a/{file.shown}",
                f"b/{file.shown}",
            )
        )
    created: list[str] = []
    for item in new.files if new is not None else ():
        shown = (settings.models_dir / Path(*item.path.parts)).as_posix()
        created.append(shown)
        diff.extend(
            difflib.unified_diff([], item.text.splitlines(keepends=True), "/dev/null", f"b/{shown}")
        )
    if not request.dry_run:
        # New files first: export checks every target before it writes one.
        if new is not None and new.files:
            _write_new(new, settings.models_dir)
        try:
            write_edited(files)
        except EditRefused as exc:
            if not created:
                raise
            raise EditRefused(f"{exc} (the new files were written: {', '.join(created)})") from exc
    edited_fields = {(edit.id, top_key(edit.field)) for edit in found.edits}
    secrets = tuple(
        (printable(model_id), secret.field, secret.fix)
        for model_id, secret in found.secrets
        if (model_id, top_key(secret.field)) in edited_fields
    )
    secrets += tuple(
        (printable(item.id), secret.field, secret.fix)
        for item in (new.files if new is not None else ())
        for secret in item.secrets
    )
    return PullOutcome(
        diff="".join(diff),
        changed=tuple(changed),
        created=tuple(created),
        pulled=found.pulled,
        skipped=(*found.skipped, *left_alone),
        secrets=secrets,
        left_out=0 if request.include_new else len(undeclared),
        dry_run=request.dry_run,
    )


def _new_files(state: LiveState, undeclared: tuple[str, ...]) -> Export:
    """The files export would write for the live entries no file declares: mutable
    ones only (from a catalog, the organisation's own)."""
    ids = [
        entry.id
        for entry in state.entries
        if entry.id in set(undeclared)
        and not entry.immutable
        and (state.api == "registry" or entry.source == BYO)
    ]
    if not ids:
        return Export(files=(), read_only_skipped=0)
    return plan_export(state.entries, ids=ids, api=state.api)


def _write_new(new: Export, models_dir: Path) -> None:
    try:
        write_export(new, models_dir)
    except ExportError as exc:
        raise ExportError(
            str(exc).replace("export failed", "pull --include-new failed", 1)
        ) from exc
