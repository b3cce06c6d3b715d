"""The cyclic garbage collector paused while a run builds many long-lived objects,
and tuned for a command line run.

Loading thousands of model files or registry entries allocates containers that all
survive; each collection walks them again, which made parsing 4-5x slower per entry
and worse with size. Nothing built there forms cycles worth collecting early.

A command line run is one batch: it builds its data, uses it and exits. With the
default thresholds the collector still walked that data over and over after loading
(about 15% of a 10,000-model plan); :func:`tune_for_batch` makes collections rare, as
mypy's command line does. Reference counting still frees everything that is not in a
cycle, so memory stays what the data needs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["BATCH_THRESHOLDS", "gc_paused", "tune_for_batch"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC; restore its previous state after, even on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _tuned:
            # Everything allocated while paused is still in the young generation: the
            # first collection would walk all of it. A batch run keeps it to the end.
            gc.freeze()
        if was_enabled:
            gc.enable()


# Allocations between young collections, then young collections per older one (mypy's).
BATCH_THRESHOLDS = (200_000, 30, 30)
# Set by tune_for_batch: this process is a command line run, not a library caller's.
_tuned = False


def tune_for_batch() -> None:
    """Tune the collector for a one-shot command line process: rare collections,
    and what :func:`gc_paused` loaded frozen (never walked again; reference counting
    still frees it). A library caller's process is left as it is."""
    global _tuned
    _tuned = True
    gc.set_threshold(*BATCH_THRESHOLDS)
