"""Which files below the models folder are read, and how.

Only regular files are read, at most :data:`MAX_FILE_BYTES` of them, each checked
before a byte is read. A symbolic link is followed only when its target is inside
the models folder. A folder or file that cannot be read is reported, never skipped:
a model missing from the load would otherwise be planned as a delete. A reason names
the file or the link, never what its target holds.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from registry_sync.printable import printable

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_FILE_NODES",
    "Unreadable",
    "display_path",
    "printable_path",
    "read_checked",
    "read_model_file",
    "walk_model_files",
    "walk_model_paths",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
# Nodes (each key, value, list and mapping as written; an alias is none) in one text,
# counted as it is parsed (yamlio.source). A model is about 80; at this bound the
# costliest file measured (33,333 documents of an id only) peaks at 154 MB.
MAX_FILE_NODES = 100_000
# Non-blocking: opening a FIFO must not wait for a writer. No following: a link was
# judged by its target already, and must not be swapped for another in between.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True)
class Unreadable:
    """A path below the models folder that cannot be read, and why (for people)."""

    path: Path
    reason: str


class _Refused(Exception):
    pass


def walk_model_files(root: Path, suffixes: tuple[str, ...]) -> tuple[list[Path], list[Unreadable]]:
    """Every file below ``root`` whose name ends with one of ``suffixes``, and every
    folder (or link to a folder) that cannot be walked."""
    found, unreadable = walk_model_paths(root, suffixes)
    return [Path(path) for path in found], unreadable


def walk_model_paths(root: Path, suffixes: tuple[str, ...]) -> tuple[list[str], list[Unreadable]]:
    """:func:`walk_model_files` with each file's path as a string that starts with
    ``os.fspath(root)`` and a separator (no pathlib object per file)."""
    real_root = os.path.realpath(root)
    found: list[str] = []
    unreadable: list[Unreadable] = []

    def refused(exc: OSError) -> None:
        unreadable.append(
            Unreadable(
                Path(exc.filename or root),
                f"cannot read the folder: {exc.strerror or exc}; fix its permissions "
                "(its models would be missing from the plan)",
            )
        )

    for folder, folders, names in os.walk(root, onerror=refused):
        for name in folders:
            path = Path(folder, name)
            if os.path.islink(path) and not _inside(os.path.realpath(path), real_root):
                unreadable.append(
                    Unreadable(
                        path,
                        "a symbolic link to a folder outside the models folder; "
                        "registry-sync reads only files inside it: move the files in instead",
                    )
                )
        join = folder + os.sep if not folder.endswith(os.sep) else folder
        found.extend(join + name for name in names if name.endswith(suffixes))
    return found, unreadable


def read_model_file(path: Path, root: Path, limit: int = MAX_FILE_BYTES) -> bytes | Unreadable:
    """The bytes of ``path``, or why it is not read: not a regular file, larger than
    ``limit``, a link leaving ``root``, or an error from the system."""
    read = read_checked(str(path), os.path.realpath(root), os.path.islink(path), limit)
    return read if isinstance(read, Unreadable) else read[0]


def read_checked(
    path: str, real_root: str, link: bool, limit: int = MAX_FILE_BYTES
) -> tuple[bytes, os.stat_result] | Unreadable:
    """:func:`read_model_file` for a caller that knows the root's real path and whether
    ``path`` is a symbolic link (from its ``lstat``): the bytes and the status of the
    file they were read from, taken before reading it."""
    try:
        return _read(path, real_root, link, limit)
    except _Refused as exc:
        return Unreadable(Path(path), str(exc))
    except OSError as exc:
        return Unreadable(Path(path), f"cannot read the file: {exc.strerror or exc}")


def _read(path: str, real_root: str, link: bool, limit: int) -> tuple[bytes, os.stat_result]:
    target = path
    if link:
        target = os.path.realpath(path)
        if not os.path.lexists(target):
            raise _Refused("a broken symbolic link; remove it or fix its target")
        if not _inside(target, real_root):
            raise _Refused(
                "a symbolic link to a file outside the models folder; registry-sync reads "
                "only files inside it: copy the file in instead"
            )
    descriptor = os.open(target, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise _Refused(f"{kind}, not a regular file; only regular files are read")
        if info.st_size > limit:
            raise _Refused(_too_large(limit))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew since fstat
            raise _Refused(_too_large(limit))
        return b"".join(chunks), info
    finally:
        os.close(descriptor)


def _too_large(limit: int) -> str:
    return (
        f"larger than {limit // (1024 * 1024)} MB; a model file is a few kilobytes: "
        "split it, or move what is not a model out of the models folder"
    )


def _inside(target: str, real_root: str) -> bool:
    return target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """How messages name a file: relative to ``cwd`` (default: the current folder)
    when it is below it, else as given; never with a raw newline or escape code."""
    try:
        shown = path.absolute().relative_to(cwd or Path.cwd()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return printable_path(shown)


def printable_path(shown: str) -> str:
    """``shown`` safe to print: a file name may hold a newline or a terminal escape
    code, which print escaped."""
    return printable(shown)
