"""Model files edited in place: a value set, added or removed, keys put in order,
with comments, quoting, flow or block style, blank lines and other documents kept.

ruamel.yaml does the editing, and only that: every text is read back by the
project's own reader (:func:`registry_sync.yamlio.source.parse_documents`) and must
give exactly the intended data, or nothing is written (:func:`write_edited`). New
text is quoted where that reader would take it for another type (``'true'``,
``'0x10'``, ``'~'``), and where export quotes it for other readers (``'off'``,
``'1e3'``, ``'2024-01-01'``), and nowhere else.

ruamel.yaml rewrites some lines it was not asked to touch (``[ text ]`` becomes
``[text]``, ``~`` becomes nothing). So an edit is taken as the difference between
ruamel's rendering of the file before and after it, and that difference is applied
to the original text where its lines correspond (:func:`_merge`): every other byte
of the file stays as it was.
"""

from __future__ import annotations

import difflib
import io
import math
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    PlainScalarString,
    ScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tag import Tag

from registry_sync.errors import EditRefused
from registry_sync.schema.values import deep_copy, format_path
from registry_sync.yamlio.document import PathParts
from registry_sync.yamlio.emit import MISREAD_ELSEWHERE
from registry_sync.yamlio.files import display_path
from registry_sync.yamlio.source import SourceMap, parse_documents, plain_tag

__all__ = [
    "DELETE",
    "EditedFile",
    "check_reads_back",
    "open_for_edit",
    "same_data",
    "value_at",
    "write_edited",
]

_STR_TAG = "tag:yaml.org,2002:str"
_BOM = "\ufeff"


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()
"""The value of an edit that removes the key (or list item) at its path."""


# What export quotes too, so that the two never undo each other: text PyYAML's own
# YAML 1.1 rules read as another type ('off', 'yes', dates), and YAML 1.2 numbers and
# the 1.1 booleans y/n that other readers take for something else.
_YAML_11 = yaml.resolver.Resolver.yaml_implicit_resolvers


def _written_tag(text: str) -> str:
    """The tag a reader may give ``text`` written plain: the project's reader's tag,
    and for text it reads as text, another type's when other readers would not."""
    tag = plain_tag(text)
    if tag != _STR_TAG:
        return tag
    for other, regexp in _YAML_11.get(text[:1], ()):
        if regexp.match(text):
            return str(other)
    return "tag:yaml.org,2002:float" if MISREAD_ELSEWHERE.match(text) else _STR_TAG


class _Resolver(VersionedResolver):
    """Plain scalars resolve as :func:`_written_tag` says, so the emitter quotes
    exactly the text a reader would take for a number, boolean, date or null."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            return Tag(suffix=_written_tag(value))
        return super().resolve(kind, value, implicit)


def _represent_float(representer: RoundTripRepresenter, value: float) -> Any:
    # The reader's float needs a dot and a signed exponent: 1e-05 is written 1.0e-05.
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


class _Representer(RoundTripRepresenter):
    """ruamel's round-trip representer, with floats written as the reader reads them."""


_Representer.add_representer(float, _represent_float)


def _loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def _dumper(mapping: int, offset: int, explicit_start: bool) -> YAML:
    yaml = YAML(typ="rt")
    yaml.Resolver = _Resolver
    yaml.Representer = _Representer
    yaml.width = 1_000_000  # never fold a long URL over two lines
    yaml.allow_unicode = True
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.explicit_start = explicit_start
    return yaml


def _indents(text: str) -> tuple[int, int]:
    """(mapping indent, list dash offset) as the file writes them; (2, 2) by default,
    the layout export writes."""
    mapping: int | None = None
    offset: int | None = None
    above: tuple[int, bool] = (0, False)  # the previous line's column, and if it opens a block
    for line in text.split("\n"):
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        column = len(line) - len(content)
        if above[1]:
            step = column - above[0]
            if content.startswith("- "):
                offset = step if offset is None else offset
            elif mapping is None and step > 0:
                mapping = step
        above = (column, content.rstrip().endswith(":"))
    return mapping or 2, 2 if offset is None else offset


def value_at(data: Any, path: PathParts) -> Any:
    """The value at ``path`` in plain ``data``, or :data:`DELETE` when there is none."""
    node = data
    for part in path:
        inside = isinstance(node, dict) and part in node
        at = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (inside or at):
            return DELETE
        node = node[part]
    return node


@dataclass
class EditedFile:
    """One model file opened for editing: its original bytes and status, the documents
    as ruamel.yaml holds them (edited in place), and the data they must read back as."""

    path: Path
    raw: bytes
    status: os.stat_result
    text: str  # with LF line ends
    documents: list[Any]
    intended: list[Any]
    crlf: bool = False
    bom: bool = False
    edited: bool = False
    # Rendered whole, in the canonical layout, rather than merged into the original text.
    canonical: bool = False
    _before: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        """The file's name as messages show it."""
        return display_path(self.path)

    def document_at(self, line: int) -> int | None:
        """The index of the document whose root starts at ``line``."""
        return SourceMap(self.text).document_at(line)

    def value(self, document: int, path: PathParts) -> Any:
        """The value at ``path`` as the project's reader reads it (with edits so far),
        or DELETE when there is none."""
        return value_at(self.intended[document], path)

    def set(self, document: int, path: PathParts, value: Any) -> None:
        """Set (or, with :data:`DELETE`, remove) the value at ``path``: the key or item
        is replaced in place, a new key goes last in its mapping."""
        if not path:
            raise ValueError("an edit needs a path")
        if not self.edited:
            self._before = self._dump()  # the rendering the edits are measured against
        container = self._container(self.documents, document, path)
        plain = self._container(self.intended, document, path)
        key = path[-1]
        if value is DELETE:
            del container[key]
            del plain[key]
        else:
            old = container.get(key) if isinstance(container, dict) else None
            if isinstance(container, list) and key == len(container):
                container.append(_converted(value, None))
                plain.append(deep_copy(value))
            else:
                container[key] = _converted(value, old)
                plain[key] = deep_copy(value)
        self.edited = True

    def make_canonical(self, document: int, ordered: Any) -> None:
        """Put a document in the canonical form: the keys of every mapping in the order
        of the same mapping in ``ordered`` (data of the same shape), block style, quotes
        only where the reader needs them, two-space indents with list items indented
        under their key. Comments travel with their keys. The whole file is then
        rendered anew."""
        _reorder(self.documents[document], ordered)
        _block_anddeep_copy(self.documents[document])
        self.edited = self.canonical = True

    def _container(self, root: list[Any], document: int, path: PathParts) -> Any:
        node: Any = root[document]
        for part in path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError) as exc:
                raise EditRefused(
                    f"{self.shown}: cannot edit {format_path(path)}: "
                    f"{format_path(path[: path.index(part) + 1])} is not in the file "
                    "as a mapping or list; edit it by hand"
                ) from exc
        return node

    def render(self) -> str:
        """The file's new text (its original text when nothing was edited)."""
        if not self.edited:
            return self.text
        if self.canonical:
            return self._dump()
        return _merge(self.text, self._before, self._dump())

    def _dump(self) -> str:
        mapping, offset = (2, 2) if self.canonical else _indents(self.text)
        explicit = self.text.lstrip(_BOM).startswith("---")
        out = io.StringIO()
        _dumper(mapping, offset, explicit).dump_all(self.documents, out)
        return out.getvalue()


def open_for_edit(path: Path) -> EditedFile:
    """Read ``path`` for editing. Raises :class:`EditRefused` when it is not a regular
    file, is not UTF-8, or either reader cannot read it."""
    shown = display_path(path)
    try:
        status = os.lstat(path)
        if not stat.S_ISREG(status.st_mode):
            raise EditRefused(
                f"{shown}: not a regular file (a symbolic link or other); only regular "
                "files are edited in place: edit it by hand"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise EditRefused(f"{shown}: cannot read it: {exc.strerror or exc}") from exc
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditRefused(f"{shown}: not UTF-8 text; save it as UTF-8") from exc
    bom = decoded.startswith(_BOM)
    crlf = "\r\n" in decoded
    text = decoded.removeprefix(_BOM).replace("\r\n", "\n")
    parsed, error = parse_documents(text)
    if error is not None:
        raise EditRefused(
            f"{shown}:{error.line}: {error.message}; fix the file (validate lists every problem)"
        )
    try:
        documents = list(_loader().load_all(text))
    except RuamelError as exc:
        raise EditRefused(
            f"{shown}: the round-trip editor cannot read it ({type(exc).__name__}); edit it by hand"
        ) from exc
    if len(documents) != len(parsed):
        raise EditRefused(
            f"{shown}: the round-trip editor reads {len(documents)} documents where "
            f"registry-sync reads {len(parsed)}; edit it by hand"
        )
    return EditedFile(
        path,
        raw,
        status,
        text,
        documents,
        [deep_copy(document.data) for document in parsed],
        crlf=crlf,
        bom=bom,
    )


def write_edited(files: Iterable[EditedFile]) -> list[EditedFile]:
    """Write every edited file whose text changed; returns those written.

    Each new text is first read back by the project's reader and must give exactly
    the file's intended data; then each file must still hold the bytes it was read
    with. Any failure raises :class:`EditRefused` before a byte is written. Each write
    is atomic (a temporary file beside it, renamed over it)."""
    ready: list[tuple[EditedFile, str]] = []
    for file in files:
        text = file.render()
        if text != file.text:
            check_reads_back(file, text)
            ready.append((file, text))
    for file, _ in ready:
        _check_unchanged(file)
    written: list[EditedFile] = []
    for file, text in ready:
        try:
            _replace(file, text)
        except OSError as exc:
            before = ", ".join(done.shown for done in written)
            done = f"; written before it: {before}" if written else "; nothing was written"
            raise EditRefused(
                f"{file.shown}: cannot write it: {exc.strerror or exc}{done}. Fix the "
                "cause and run the command again (files already written are in sync)"
            ) from exc
        written.append(file)
    return written


def check_reads_back(file: EditedFile, text: str) -> None:
    """Raise :class:`EditRefused` unless ``text`` reads back as ``file``'s intended data."""
    parsed, error = parse_documents(text)
    if error is not None:
        where = f"line {error.line}: {error.message}"
    elif len(parsed) != len(file.intended):
        where = f"{len(parsed)} documents instead of {len(file.intended)}"
    else:
        where = ""
        for document, intended in zip(parsed, file.intended, strict=True):
            difference = _difference(document.data, intended, ())
            if difference is not None:
                field_name = format_path(difference) or "the whole document"
                where = f"document at line {document.line}, {field_name}"
                break
        if not where:
            return
    raise EditRefused(
        f"{file.shown}: not written: the edited text would not read back as intended "
        f"({where}); nothing was written. Make the change by hand (a YAML anchor shared by "
        "several places is the usual cause)"
    )


def _check_unchanged(file: EditedFile) -> None:
    try:
        now = os.lstat(file.path)
        same = (
            now.st_ino == file.status.st_ino
            and now.st_size == file.status.st_size
            and now.st_mtime_ns == file.status.st_mtime_ns
            and file.path.read_bytes() == file.raw
        )
    except OSError:
        same = False
    if not same:
        raise EditRefused(
            f"{file.shown} changed on disk since registry-sync read it; nothing was "
            "written: run the command again"
        )


def _replace(file: EditedFile, text: str) -> None:
    if file.crlf:
        text = text.replace("\n", "\r\n")
    data = ((_BOM if file.bom else "") + text).encode("utf-8")
    descriptor, temporary = tempfile.mkstemp(
        dir=file.path.parent, prefix=f".{file.path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(file.status.st_mode))
        os.replace(temporary, file.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- values ---------------------------------------------------------------------------------


def _converted(value: Any, old: Any) -> Any:
    """``value`` as ruamel.yaml holds a new value: block collections; a string that
    replaces a quoted one keeps its quotes when they can hold it."""
    if isinstance(value, dict):
        return CommentedMap((key, _converted(item, None)) for key, item in value.items())
    if isinstance(value, list):
        return CommentedSeq(_converted(item, None) for item in value)
    if isinstance(value, str) and not value.isprintable():
        return DoubleQuotedScalarString(value)  # escaped: a raw line break would fold
    if isinstance(value, str) and isinstance(old, ScalarString):
        if isinstance(old, SingleQuotedScalarString) and value.isprintable():
            return SingleQuotedScalarString(value)
        if isinstance(old, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(value)
    return value


def same_data(left: Any, right: Any) -> bool:
    """True when two plain values are equal with the same types throughout (``1``,
    ``1.0`` and ``True`` differ; key order does not matter)."""
    return _difference(left, right, ()) is None


def _difference(left: Any, right: Any, path: PathParts) -> PathParts | None:
    if type(left) is not type(right):
        return path
    if isinstance(left, dict):
        if left.keys() != right.keys():
            return path
        for key, item in left.items():
            found = _difference(item, right[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(left, list):
        if len(left) != len(right):
            return path
        for index, (item, other) in enumerate(zip(left, right, strict=True)):
            found = _difference(item, other, (*path, index))
            if found is not None:
                return found
        return None
    if isinstance(left, float) and math.isnan(left) and math.isnan(right):
        return None
    return None if left == right else path


def _reorder(node: Any, ordered: Any) -> None:
    if isinstance(node, CommentedMap) and isinstance(ordered, dict):
        for key in [key for key in ordered if key in node]:
            node.move_to_end(key)
        for key in [key for key in node if key not in ordered]:
            node.move_to_end(key)  # unknown keys last, in their own order
        for key in node:
            if key in ordered:
                _reorder(node[key], ordered[key])
    elif isinstance(node, CommentedSeq) and isinstance(ordered, list):
        for item, order in zip(node, ordered, strict=False):
            _reorder(item, order)


def _block_anddeep_copy(node: Any) -> None:
    if not isinstance(node, (CommentedMap, CommentedSeq)):
        return
    node.fa.set_block_style()
    items: Sequence[tuple[Any, Any]] = (
        list(node.items()) if isinstance(node, CommentedMap) else list(enumerate(node))
    )
    for key, item in items:
        if (
            isinstance(item, ScalarString)
            and not isinstance(item, PlainScalarString)
            and _plain_is_enough(str(item))
        ):
            # A plain str would take the old quotes (ruamel keeps a key's style).
            node[key] = PlainScalarString(str(item))
        else:
            _block_anddeep_copy(item)


def _plain_is_enough(text: str) -> bool:
    """True when text reads back as itself written plain, by any reader: the emitter
    then writes it plain, unless a character needs quotes (it quotes those itself)."""
    return _written_tag(text) == _STR_TAG and "\n" not in text


# --- the merge -----------------------------------------------------------------------------


def _merge(original: str, before: str, after: str) -> str:
    """``after`` where ruamel.yaml rewrote ``original`` as ``before``: each part of
    ``original`` whose rendering did not change from ``before`` to ``after`` keeps its
    own bytes; the parts an edit touched are ``after``'s.

    The parts are the lines ``original`` and ``before`` share, one by one, and each
    stretch ruamel.yaml rewrote (``[ text ]`` as ``[text]``), whole; an edit spanning
    several parts joins them."""
    if before == original:
        return after
    old = original.splitlines(keepends=True)
    was = before.splitlines(keepends=True)
    now = after.splitlines(keepends=True)
    parts: list[tuple[int, int, int, int]] = []  # (start, end) in ``was``, then in ``old``
    for tag, start, end, start_was, end_was in difflib.SequenceMatcher(
        None, old, was, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            parts.extend(
                (start_was + k, start_was + k + 1, start + k, start + k + 1)
                for k in range(end - start)
            )
        else:
            parts.append((start_was, end_was, start, end))
    edits = difflib.SequenceMatcher(None, was, now, autojunk=False).get_opcodes()
    joined: list[tuple[int, int, int, int]] = []
    for part in parts:
        inside = any(tag != "equal" and i1 < part[0] < i2 for tag, i1, i2, _, _ in edits)
        if joined and inside:
            before_it = joined[-1]
            joined[-1] = (before_it[0], part[1], before_it[2], part[3])
        else:
            joined.append(part)
    out: list[str] = []
    for start_was, end_was, start, end in joined:
        first, last = _position(start_was, edits, now), _position(end_was, edits, now)
        out.extend(old[start:end] if now[first:last] == was[start_was:end_was] else now[first:last])
    return "".join(out)


def _position(line: int, edits: Sequence[tuple[str, int, int, int, int]], now: list[str]) -> int:
    """Where the boundary before line ``line`` of ``before`` falls in ``after``; lines
    inserted at a boundary belong to the part before it."""
    if line == 0:
        return 0
    for tag, start, end, start_now, end_now in edits:
        if tag == "equal":
            if start <= line < end:
                return start_now + line - start
        elif line == end:
            return end_now
        elif line == start:
            return start_now
    return len(now)
