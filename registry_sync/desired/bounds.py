"""The bound on one run's work: the YAML nodes and bytes of all model files together.

Each file is bounded on its own as it is read and parsed (``MAX_FILE_BYTES`` and
``MAX_FILE_NODES`` in :mod:`registry_sync.yamlio.files`, fixed: they protect against
one hostile file); :class:`WorkBudget` bounds their sum by the run's
:class:`LoadLimits`, by default so that no models folder within them costs more than
a few hundred MB (``benchmarks/bounds_bench.py`` measures the costliest inputs).
``limits:`` in registry-sync.yaml raises them for a larger registry, at the memory
it costs. The files are counted in the order they are read, cached ones too (the
cache keeps each file's node count), so a warm run refuses what a cold one does; the
file that passes a bound is the one named, and no file after it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry_sync.settings.defaults import (
    CONFIG_FILE,
    DEFAULT_TOTAL_BYTES,
    DEFAULT_TOTAL_NODES,
)

if TYPE_CHECKING:
    from registry_sync.settings.config import ProjectConfig

__all__ = ["DEFAULT_LIMITS", "LoadLimits", "WorkBudget", "count_nodes"]

_MB = 1024 * 1024


@dataclass(frozen=True)
class LoadLimits:
    """The bound on one run's work: YAML nodes and bytes of all model files together."""

    total_nodes: int = DEFAULT_TOTAL_NODES
    total_bytes: int = DEFAULT_TOTAL_BYTES

    @classmethod
    def of(cls, config: ProjectConfig | None) -> LoadLimits:
        """The limits ``config`` sets (``limits:`` of registry-sync.yaml), the
        defaults for what it leaves out (or without one)."""
        if config is None:
            return cls()
        return cls(
            total_nodes=config.total_nodes or DEFAULT_TOTAL_NODES,
            total_bytes=config.total_bytes or DEFAULT_TOTAL_BYTES,
        )


DEFAULT_LIMITS = LoadLimits()


@dataclass
class WorkBudget:
    """What the files read so far hold: nodes and bytes, against ``limits``."""

    limits: LoadLimits = DEFAULT_LIMITS
    nodes: int = 0
    bytes: int = 0

    def charge(self, size: int, nodes: int) -> str | None:
        """Count one more file of ``size`` bytes and ``nodes`` nodes; the problem, if
        the files so far now pass a bound."""
        self.nodes += nodes
        self.bytes += size
        if self.nodes > self.limits.total_nodes:
            held = (
                f"more than {self.limits.total_nodes:,} YAML nodes "
                "(keys, values, lists and mappings)"
            )
            setting = "total_nodes"
        elif self.bytes > self.limits.total_bytes:
            held = f"more than {_size(self.limits.total_bytes)}"
            setting = "total_bytes"
        else:
            return None
        return (
            f"with this file, the model files hold {held} in all, the bound on one run "
            "(10,000 models hold about 800,000 nodes and 7 MB); the files after it are "
            "not read: keep only model files in the models folder, or raise "
            f"limits.{setting} in {CONFIG_FILE} (a larger run takes more memory: about "
            "1.4 GB at 100,000 models)"
        )


def _size(count: int) -> str:
    """``count`` bytes as people read them: whole MB when it is, else bytes."""
    if count % _MB == 0:
        return f"{count // _MB:,} MB"
    return f"{count:,} bytes"


def count_nodes(data: Any) -> int:
    """The nodes of a YAML text without aliases that loads as ``data``."""
    if type(data) is dict:
        return 1 + sum(1 + count_nodes(value) for value in data.values())
    if type(data) is list:
        return 1 + sum(count_nodes(item) for item in data)
    return 1
