"""The bound on one run's work: the YAML nodes and bytes of all model files together.

Each file is bounded on its own as it is read and parsed (``MAX_FILE_BYTES`` and
``MAX_FILE_NODES`` in :mod:`registry_sync.yamlio.files`); :class:`WorkBudget` bounds
their sum, so that no models folder within the bounds costs more than a few hundred
MB (``benchmarks/bounds_bench.py`` measures the costliest inputs). The files are
counted in the order they are read, cached ones too (the cache keeps each file's
node count), so a warm run refuses what a cold one does; the file that passes a
bound is the one named, and no file after it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_TOTAL_BYTES", "MAX_TOTAL_NODES", "WorkBudget", "count_nodes"]

# 10,000 models of plan_bench's kind hold about 800,000 nodes and 7 MB.
MAX_TOTAL_NODES = 2_000_000
MAX_TOTAL_BYTES = 64 * 1024 * 1024


@dataclass
class WorkBudget:
    """What the files read so far hold: nodes and bytes."""

    nodes: int = 0
    bytes: int = 0

    def charge(self, size: int, nodes: int) -> str | None:
        """Count one more file of ``size`` bytes and ``nodes`` nodes; the problem, if
        the files so far now pass a bound."""
        self.nodes += nodes
        self.bytes += size
        if self.nodes > MAX_TOTAL_NODES:
            held = f"more than {MAX_TOTAL_NODES:,} YAML nodes (keys, values, lists and mappings)"
        elif self.bytes > MAX_TOTAL_BYTES:
            held = f"more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB"
        else:
            return None
        return (
            f"with this file, the model files hold {held} in all, the bound on one run "
            "(10,000 models hold about 800,000 nodes and 7 MB); the files after it are "
            "not read: keep only model files in the models folder, or split it"
        )


def count_nodes(data: Any) -> int:
    """The nodes of a YAML text without aliases that loads as ``data``."""
    if type(data) is dict:
        return 1 + sum(1 + count_nodes(value) for value in data.values())
    if type(data) is list:
        return 1 + sum(count_nodes(item) for item in data)
    return 1
