"""``render --env NAME``: models/ with one environment's overlay, variables and owns
applied, in; the definitions that environment gets, each with the files that set it,
out. No network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_sync.desired.checks import Warn, check_problems
from registry_sync.desired.load import load_effective
from registry_sync.settings.config import ProjectConfig

__all__ = ["EnvironmentDefinition", "environment_definitions"]


@dataclass(frozen=True)
class EnvironmentDefinition:
    """One definition an environment gets: its body, and ``file:line`` of the model
    file then every overlay file that changed it."""

    id: str
    sources: tuple[str, ...]
    body: Mapping[str, Any]


def environment_definitions(
    models_dir: Path, scope: ProjectConfig, warn: Warn | None = None
) -> list[EnvironmentDefinition]:
    """The environment's definitions; raises
    :class:`~registry_sync.errors.InvalidModels` when one is invalid, and passes
    warnings to ``warn``."""
    result = load_effective(models_dir, scope)
    check_problems(result.problems, strict=False, warn=warn)
    return [
        EnvironmentDefinition(
            id=definition.id,
            sources=(
                f"{definition.file}:{definition.line}",
                *sorted({file for file, _, _ in (definition.origins or {}).values()}),
            ),
            body=definition.body,
        )
        for definition in result.definitions
    ]
