"""The few git commands the action runs in the checkout: which commit is checked
out, and another commit's tree beside it (a worktree) to plan it."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry_sync.errors import ConfigError

__all__ = ["checked_out", "tree_at"]


def checked_out(folder: Path) -> str:
    """The commit checked out in ``folder``."""
    return _git(folder, "rev-parse", "HEAD")


@contextmanager
def tree_at(root: Path, sha: str) -> Iterator[Path]:
    """The tree of commit ``sha`` of the checkout at ``root``, as a temporary
    worktree (removed afterwards); the commit must have been fetched
    (``actions/checkout`` with ``fetch-depth: 0``)."""
    with tempfile.TemporaryDirectory(prefix="registry-sync-") as scratch:
        folder = Path(scratch) / sha[:12]
        _git(root, "worktree", "add", "--quiet", "--detach", str(folder), sha)
        try:
            yield folder
        finally:
            _git(root, "worktree", "remove", "--force", str(folder))


def _git(folder: Path, *arguments: str) -> str:
    command = " ".join(("git", *arguments[:2]))
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ConfigError(f"{command} failed: {exc}") from exc
    if done.returncode != 0:
        raise ConfigError(f"{command} failed in {folder}: {done.stderr.strip()}")
    return done.stdout.strip()
