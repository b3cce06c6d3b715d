"""The collector's tuning for one-shot command line processes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from registry_sync.gcpause import BATCH_THRESHOLDS

# Prints the thresholds as the process exits, after the entry point ran.
_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("thresholds", gc.get_threshold()))
print("before", gc.get_threshold())
{run}
"""


@pytest.mark.parametrize(
    "run",
    [
        "from registry_sync.cli import main; sys.argv = ['registry-sync', '--version']; main()",
        "from registry_sync.github.cli import main; main(['--help'])",
    ],
    ids=["registry-sync", "action"],
)
def test_entry_points_tune_the_collector_for_a_batch_run(run: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(run=run)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] != f"before {BATCH_THRESHOLDS}"  # the default differs, so this can fail
    assert lines[-1] == f"thresholds {BATCH_THRESHOLDS}"


_FREEZE_PROBE = """
import gc
from registry_sync.gcpause import gc_paused, tune_for_batch
{tune}
with gc_paused():
    kept = [{{"n": i}} for i in range(1000)]
print(gc.get_freeze_count() >= len(kept), gc.isenabled())
"""


@pytest.mark.parametrize(("tune", "frozen"), [("tune_for_batch()", True), ("", False)])
def test_a_batch_run_freezes_what_it_loaded_and_a_library_caller_is_left_alone(
    tune: str, frozen: bool
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FREEZE_PROBE.format(tune=tune)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [str(frozen), "True"]
