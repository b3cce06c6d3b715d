"""What parsing a YAML text gives, without the parser: the types the loader, the
configuration and overlays hold on every run, warm ones included, where no text is
parsed and neither PyYAML nor :mod:`registry_sync.yamlio.source` is imported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Document", "PathParts", "YamlError"]

PathParts = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document of a file, constructed to plain Python data."""

    index: int  # position in the file, 0-based
    line: int  # 1-based line where its root node starts
    data: Any
    maybe_duplicate_keys: bool  # confirm with SourceMap.duplicate_keys
    # What the reader saw while building ``data``, so that no one walks it again to
    # learn it: False only when no mapping value anywhere is null ...
    maybe_null: bool = True
    # ... and True only when JSON holds ``data`` exactly (it reads back equal, of the
    # same types: text keys, no integer past 64 bits, no NaN or infinity, no date).
    json_exact: bool = False
    # What the caller's judge said of the document's keys and links (parse_documents);
    # True when no judge was asked.
    flagged: bool = True


@dataclass(frozen=True)
class YamlError:
    """A YAML text that does not parse or construct; ``line`` 0 when unknown.

    ``path`` is the dotted field the error is about, when one is known."""

    line: int
    message: str
    path: str = ""
