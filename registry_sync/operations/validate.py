"""``validate``: the model files (as one environment sees them) in; every problem,
the counts and the verdict out. No network."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from registry_sync.desired.checks import Warn, check_problems
from registry_sync.desired.load import load_effective
from registry_sync.desired.loader import check_reroute_graph, check_reroute_targets
from registry_sync.desired.parsecache import ParseCache
from registry_sync.schema.generations import DEFAULT_API
from registry_sync.schema.problems import Problem
from registry_sync.settings.config import ProjectConfig

__all__ = ["ValidateRequest", "ValidateResult", "validate_models"]

_CATALOG_ONLY = (
    "these files are valid for the catalog API (the catalog and activation API): each "
    "problem found is a value only it accepts. Nothing pins the API, so validate checks "
    "them for the registry API; if your registry speaks the catalog API, pin it with "
    "'api: catalog' in registry-sync.yaml, or pass --api catalog"
)


@dataclass(frozen=True)
class ValidateRequest:
    """Validate ``models_dir`` (through ``cache``) as the environment and owns of
    ``scope`` see it, if given; ``strict`` fails on warnings too. ``api`` is the API
    generation pinned (``--api``, ``MKA1_API``, ``api:`` in registry-sync.yaml): the
    files are checked for it; None checks them for the registry generation."""

    models_dir: Path
    scope: ProjectConfig | None = None
    strict: bool = False
    cache: ParseCache | None = None
    api: str | None = None


@dataclass(frozen=True)
class ValidateResult:
    """Every problem found (sorted), the notes about the folder, and what was read."""

    problems: list[Problem]
    notes: list[str]
    definitions: int
    files: int
    environment: str | None
    strict: bool

    @property
    def failed(self) -> bool:
        """True when a problem is an error (or, strictly, a warning)."""
        return any(p.severity == "error" for p in self.problems) or (
            self.strict and bool(self.problems)
        )

    def check(self, warn: Warn | None) -> None:
        """Raise :class:`~registry_sync.errors.InvalidModels` when the result failed;
        else pass its warnings to ``warn``."""
        check_problems(self.problems, strict=self.strict, warn=warn)


def validate_models(request: ValidateRequest) -> ValidateResult:
    """Load the files and check them, reroute cycles included, for the generation
    pinned. Unpinned, when the files fail only for values the registry generation
    refuses and the catalog generation accepts, a note says so and how to pin it."""
    api = request.api or DEFAULT_API
    result = load_effective(request.models_dir, request.scope, request.cache, api)
    notes = list(result.notes)
    if result.files == 0:
        notes.append(f"no *.yaml or *.yml files found below {request.models_dir}")
    # Without the registry, a rule's target or a cycle through the registry's own
    # entries cannot be judged: warnings that plan decides (an entry rerouting to
    # itself is an error whatever the registry holds).
    references = [
        _undecided(problem)
        for problem in [
            *check_reroute_targets(result.definitions, ()),
            *check_reroute_graph(result.definitions),
        ]
    ]
    if request.api is None and result.failing(strict=request.strict):
        catalog = load_effective(request.models_dir, request.scope, request.cache, "catalog")
        if not catalog.failing(strict=request.strict):
            notes.append(_CATALOG_ONLY)
    return ValidateResult(
        problems=sorted([*result.problems, *references]),
        notes=notes,
        definitions=len(result.definitions),
        files=result.files,
        environment=None if request.scope is None else request.scope.environment,
        strict=request.strict,
    )


_SELF = "reroutes to its own id; name another model"


def _undecided(problem: Problem) -> Problem:
    """A reference problem as validate reports it: a warning that plan decides."""
    if problem.severity != "error" or problem.message == _SELF:
        return problem
    message = problem.message.replace(
        " in models/ or in the registry", " in models/ (the registry may have it)"
    )
    return dataclasses.replace(
        problem,
        message=f"{message}; plan decides, against the registry",
        severity="warning",
    )
