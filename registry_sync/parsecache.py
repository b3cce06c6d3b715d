"""The parse cache: each model file's parsed and validated form, keyed on its content.

An entry is keyed on the SHA-256 of the file's bytes; the entries of one models/
folder are kept in one JSON file named by the folder and everything else that decides
what validating finds: the tool's version, the source of the modules that parse and
validate, and pydantic's version. It lives in the user cache directory
(``REGISTRY_SYNC_CACHE_DIR`` sets another), is read once per run and written (when
anything changed) to a temporary name and renamed into place, so concurrent runs
never see half of it. An entry or file that does not read back is ignored and
written again. One file, not one per entry: creating thousands of small files cost
more than parsing them.

Only files without errors are cached: a file holding an inline secret is an error,
so no secret is ever written here. Entries hold ids, definitions and warnings.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import json
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CACHE_DIR_ENV = "REGISTRY_SYNC_CACHE_DIR"
_names = itertools.count()
_FORMAT = 1
# The modules whose code decides what validating a file finds.
_VALIDATING = (
    "registry_sync.blockyaml",
    "registry_sync.definition",
    "registry_sync.live",
    "registry_sync.loader",
    "registry_sync.problems",
    "registry_sync.secrets",
    "registry_sync.values",
    "registry_sync.yamlsource",
)


@dataclass(frozen=True)
class CachedDocument:
    """One document of a cached file that declares an id."""

    id: str
    valid: bool
    index: int
    line: int
    body: dict[str, Any]


@dataclass(frozen=True)
class CachedFile:
    """What loading one file found: its declared documents and its warnings."""

    documents: tuple[CachedDocument, ...]
    warnings: tuple[tuple[int, str, str], ...]  # (line, path, message)
    empty: bool


class ParseCache:
    """The entries for one models/ folder, kept in one file of ``folder``.

    ``open`` reads them, ``get`` and ``put`` work by a file's bytes, ``save`` writes
    the entries this run used (so removed files' entries go) when anything changed.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path: Path | None = None
        self._stored: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._changed = False

    def open(self, models_dir: Path) -> None:
        """Read the entries stored for ``models_dir``; unreadable ones count as none."""
        scope = hashlib.sha256(_salt() + str(models_dir.resolve()).encode()).hexdigest()
        self._path = self.folder / f"{scope}.json"
        self._used, self._changed = {}, False
        try:
            stored = json.loads(self._path.read_bytes())
            self._stored = stored["entries"] if isinstance(stored["entries"], dict) else {}
        except (OSError, ValueError, TypeError, KeyError):
            self._stored = {}

    def get(self, raw: bytes) -> CachedFile | None:
        """The entry for a file holding ``raw``, or None (absent or unreadable)."""
        key = hashlib.sha256(raw).hexdigest()
        data = self._stored.get(key)
        if data is None:
            return None
        try:
            entry = _decode(data)
        except (ValueError, TypeError, KeyError, IndexError):
            return None
        self._used[key] = data
        return entry

    def put(self, raw: bytes, entry: CachedFile) -> None:
        """Keep ``entry`` for ``raw``; quietly not when it cannot be stored as it is."""
        data = _encode(entry)
        if json.loads(json.dumps(data)) != data:  # e.g. a mapping with non-string keys
            return
        self._used[hashlib.sha256(raw).hexdigest()] = data
        self._changed = True

    def save(self) -> None:
        """Write the entries this run used, if they differ from those stored."""
        if self._path is None or (not self._changed and self._used.keys() == self._stored.keys()):
            return
        temporary = self.folder / f".tmp-{os.getpid()}-{next(_names)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # A name no other run uses, then one rename: readers see all or nothing.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "w", encoding="utf-8") as file:
                # Entry by entry: the whole text at once would double the peak memory.
                file.write(f'{{"format":{_FORMAT},"entries":{{')
                for number, (key, data) in enumerate(self._used.items()):
                    separator = "," if number else ""
                    file.write(f'{separator}"{key}":{json.dumps(data, separators=(",", ":"))}')
                file.write("}}")
            os.replace(temporary, self._path)
        except OSError:  # a read-only or full cache costs only speed
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def default_cache() -> ParseCache:
    """The cache in ``REGISTRY_SYNC_CACHE_DIR``, else in the user cache directory."""
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen:
        return ParseCache(Path(chosen))
    return ParseCache(user_cache_dir() / "registry-sync" / "parse")


def user_cache_dir() -> Path:
    """The platform's per-user cache directory."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@cache
def _salt() -> bytes:
    import pydantic

    from registry_sync import _version

    digest = hashlib.sha256(f"{_FORMAT}\0{_version.__version__}\0{pydantic.VERSION}".encode())
    for name in _VALIDATING:
        digest.update(Path(importlib.import_module(name).__file__ or "").read_bytes())
    return digest.digest()


def _encode(entry: CachedFile) -> dict[str, Any]:
    return {
        "documents": [[d.id, d.valid, d.index, d.line, d.body] for d in entry.documents],
        "warnings": [list(warning) for warning in entry.warnings],
        "empty": entry.empty,
    }


def _decode(data: dict[str, Any]) -> CachedFile:
    documents = tuple(
        CachedDocument(str(i), bool(valid), int(index), int(line), dict(body))
        for i, valid, index, line, body in data["documents"]
    )
    warnings = tuple(
        (int(line), str(path), str(message)) for line, path, message in data["warnings"]
    )
    return CachedFile(documents, warnings, bool(data["empty"]))
