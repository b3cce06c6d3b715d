"""The block YAML people write, parsed without libyaml; anything else is left to it.

Parsing model files is the floor of every command's time, and libyaml builds a
node graph that PyYAML's constructor then walks in Python. The files people write
(and ``yaml.safe_dump`` and ``export`` write) use a small part of YAML: block
mappings and sequences of one-line scalars, comments, a few flow lists. This module
reads that part line by line, straight to Python data.

It is a fast path, never a second YAML reader: :meth:`BlockYaml.documents` returns
None as soon as the text leaves the part it reads (a tab, an anchor, a tag, a block
or multi-line scalar, an escape, a directive, an empty document, indentation it does
not expect, anything near a bound of :mod:`registry_sync.yamlio.source`), and the caller
parses that text with libyaml as before. Where it answers, the answer is the one
libyaml and the loader's constructor give: plain scalars resolve through the
loader's own implicit resolvers and constructors (``tests/test_blockyaml.py``
compares the two on every kind of text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["BlockYaml", "Parsed", "Resolvers"]

# Resolvers by first character, as PyYAML's ``yaml_implicit_resolvers``.
Resolvers = Mapping[str, Sequence[tuple[str, re.Pattern[str]]]]
# (first line of the root node, data, whether a mapping repeated a key) per document.
Parsed = list[tuple[int, Any, bool]]


class _OutOfSubset(Exception):
    """The text leaves what this module reads: the caller parses it with libyaml."""


# Characters libyaml reads as plain text, less those that are whitespace or a line
# break to some reader (tab, a CR alone, NEL, NBSP, LS, PS, BOM, ...): a text holding any
# other character goes to libyaml, which also reports the ones it refuses.
_OUTSIDE = re.compile(
    "[^\n\x20-\x7e\xa1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e"
    "\u2060-\u2fff\u3001-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_DOCUMENT_START = re.compile(r"---(?: +(?:#.*)?)?")
# A plain scalar cannot start with an indicator; ``-`` may, before anything else.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# ``key:`` or ``key: value``: a plain key without ``:``, ``#`` or flow indicators,
# or a one-line quoted key without escapes.
_KEY_LINE = re.compile(
    r"""(?:
        ((?:[^\s\-?:,\[\]{}#&*!|>'"%@`]|-[^\s\-?:,\[\]{}#&*!|>'"%@`])(?:[^:#,\[\]{}]*[^\s:#,\[\]{}])?)
        | '((?:[^']|'')*)'
        | "([^"\\]*)"
    ):(?:\ +(.*))?$""",
    re.VERBOSE,
)
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'(?: +(?:#.*)?)?$")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"(?: +(?:#.*)?)?$')
# After a flow collection: nothing, or a comment.
_FLOW_END = re.compile(r"(?: +(?:#.*)?)?$")
# Inside a flow collection: a plain scalar without ``:``, ``#`` or flow indicators,
# a quoted one, and what separates them.
_FLOW_PLAIN = re.compile(
    r"""(?:[^\s\-?:,\[\]{}#&*!|>'"%@`]|-[^\s\-?:,\[\]{}#&*!|>'"%@`])(?:[^:,\[\]{}#]*[^\s:,\[\]{}#])?"""
)
_FLOW_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_FLOW_DOUBLE = re.compile(r'"([^"\\]*)"')
_FLOW_COLON = re.compile(r": +")
_SPACES = re.compile(r" +")
_NOT_AFTER_DASH = _INDICATORS | {"", " "}
_MEMO_SIZE = 4096
_UNKNOWN = object()
_KEY_SIZE = 200  # libyaml refuses a key whose `:` is more than 1,024 characters after it


class BlockYaml:
    """Reads the block YAML subset, resolving plain scalars as the loader does.

    ``resolvers`` and ``constructors`` (implicit tag -> function of the scalar's text)
    are the loader's; a plain scalar whose tag has no constructor, an integer longer
    than ``max_int_digits`` and nesting near ``max_depth`` leave the subset, so the
    loader's own checks decide them.
    """

    def __init__(
        self,
        resolvers: Resolvers,
        constructors: Mapping[str, Callable[[str], Any]],
        *,
        int_tag: str,
        max_int_digits: int,
        max_depth: int,
    ) -> None:
        self._resolvers = {first: tuple(pairs) for first, pairs in resolvers.items() if pairs}
        self._constructors = dict(constructors)
        self._int_tag = int_tag
        self._max_int_digits = max_int_digits
        # The root is depth 1: deeper trees go to the loader, whose own check decides.
        self.max_depth = max_depth - 4
        # Text of a key or a one-line value -> what it reads as, for the immutable ones.
        self.memo: dict[str, Any] = {}

    def documents(self, text: str) -> Parsed | None:
        """Each document of ``text``, or None when the text leaves the subset."""
        if "\r" in text:
            # libyaml reads CR LF as one line break; a CR alone (also a break) is left.
            text = text.replace("\r\n", "\n")
        if _OUTSIDE.search(text) is not None:
            return None
        try:
            return self._documents(text)
        except _OutOfSubset:
            return None

    def _documents(self, text: str) -> Parsed:
        parsed: Parsed = []
        lines: list[tuple[int, str, int]] = []  # (indent, content, 1-based line number)
        explicit = False  # the document being read began with ``---``
        number = 0
        for line in text.split("\n"):
            number += 1
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
            if indent == 0 and content[:3] in ("---", "..."):
                if _DOCUMENT_START.fullmatch(content) is None:
                    raise _OutOfSubset  # `...`, or content after `---`
                if lines:
                    parsed.append(_Document(self, lines).parse())
                elif explicit:
                    raise _OutOfSubset  # an empty document
                lines = []
                explicit = True
                continue
            lines.append((indent, content, number))
        if lines:
            parsed.append(_Document(self, lines).parse())
        elif explicit:
            raise _OutOfSubset
        return parsed

    def plain(self, text: str) -> Any:
        """A one-line plain scalar as the loader constructs it."""
        resolvers = self._resolvers.get(text[0])
        if resolvers is None:
            return text
        for tag, pattern in resolvers:
            if pattern.match(text):
                construct = self._constructors.get(tag)
                if construct is None or (tag == self._int_tag and len(text) > self._max_int_digits):
                    raise _OutOfSubset
                try:
                    return construct(text)
                except Exception as exc:  # the loader reports it, at its line
                    raise _OutOfSubset from exc
        return text

    def remember(self, text: str, value: Any) -> Any:
        """Keep ``value``, immutable, as what the key or one-line value ``text`` reads as."""
        memo = self.memo
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[text] = value
        return value


class _Document:
    """One document's content lines (blank and comment lines left out), read once."""

    def __init__(self, parser: BlockYaml, lines: list[tuple[int, str, int]]) -> None:
        self._parser = parser
        self._memo = parser.memo
        self._max_depth = parser.max_depth
        self._lines = lines
        self._next = 0  # the first line not read yet
        self._repeated_key = False

    def parse(self) -> tuple[int, Any, bool]:
        indent, content, number = self._lines[0]
        data = self._node(indent, content, 1)
        if self._next != len(self._lines):
            raise _OutOfSubset  # lines left that belong to no node
        return number, data, self._repeated_key

    def _node(self, column: int, content: str, depth: int) -> Any:
        """The node whose text starts at ``column`` of the current line."""
        if content[0] == "-" and (len(content) == 1 or content[1] == " "):
            return self._sequence(column, content, depth, indentless=False)
        match = _KEY_LINE.match(content)
        if match is not None:
            return self._mapping(column, match, depth)
        self._next += 1
        return self._scalar(content, depth)

    def _block(self, column: int, content: str, depth: int) -> Any:
        """A collection that starts on its own line (after ``key:`` or ``-``)."""
        if content[0] == "-" and (len(content) == 1 or content[1] == " "):
            return self._sequence(column, content, depth, indentless=False)
        match = _KEY_LINE.match(content)
        if match is None:
            raise _OutOfSubset  # a scalar on a line of its own may go on over more lines
        return self._mapping(column, match, depth)

    def _mapping(self, column: int, match: re.Match[str], depth: int) -> dict[Any, Any]:
        if depth > self._max_depth:
            raise _OutOfSubset
        lines = self._lines
        end = len(lines)
        mapping: dict[Any, Any] = {}
        pairs = 0
        memo = self._memo
        while True:
            plain_key, single, double, value_text = match.groups()
            key = memo.get(plain_key, _UNKNOWN) if plain_key is not None else _UNKNOWN
            if key is _UNKNOWN:
                key = self._key(plain_key, single, double)
            self._next += 1
            value: Any = None
            if value_text and value_text[0] != "#":
                value = memo.get(value_text, _UNKNOWN)
                if value is _UNKNOWN:
                    value = self._scalar(value_text, depth + 1)
            else:
                if self._next < end:
                    indent, content, _ = lines[self._next]
                    if indent > column:
                        value = self._block(indent, content, depth + 1)
                    elif (
                        indent == column
                        and content[0] == "-"
                        and (len(content) == 1 or content[1] == " ")
                    ):
                        value = self._sequence(column, content, depth + 1, indentless=True)
            mapping[key] = value
            pairs += 1
            if self._next == end:
                break
            indent, content, _ = lines[self._next]
            if indent < column:
                break
            following = _KEY_LINE.match(content)
            if indent > column or following is None:
                raise _OutOfSubset  # a scalar going on, or a line that is no key
            match = following
        if len(mapping) != pairs:
            self._repeated_key = True  # as the loader flags it: the later value won
        return mapping

    def _key(self, plain: str | None, single: str | None, double: str | None) -> Any:
        if plain is not None:
            if len(plain) > _KEY_SIZE:
                raise _OutOfSubset
            return self._parser.remember(plain, self._parser.plain(plain))
        if single is not None:
            if len(single) > _KEY_SIZE:
                raise _OutOfSubset
            return single.replace("''", "'")
        if double is None or len(double) > _KEY_SIZE:
            raise _OutOfSubset
        return double

    def _sequence(self, column: int, content: str, depth: int, *, indentless: bool) -> list[Any]:
        if depth > self._max_depth:
            raise _OutOfSubset
        lines = self._lines
        end = len(lines)
        sequence: list[Any] = []
        while True:
            item = content[1:].lstrip(" ")
            if not item or item[0] == "#":
                self._next += 1
                value: Any = None
                if self._next < end:
                    indent, nested, _ = lines[self._next]
                    if indent > column:
                        value = self._block(indent, nested, depth + 1)
                sequence.append(value)
            else:
                sequence.append(self._node(column + len(content) - len(item), item, depth + 1))
            if self._next == end:
                break
            indent, content, _ = lines[self._next]
            if indent < column:
                break
            if indent > column:
                raise _OutOfSubset  # a scalar going on, or indentation out of step
            if content[0] != "-" or (len(content) > 1 and content[1] != " "):
                if indentless:
                    break  # the next key of the mapping that holds this list
                raise _OutOfSubset
        return sequence

    def _scalar(self, text: str, depth: int) -> Any:
        """A value that ends on its line: plain, quoted, or a flow collection."""
        first = text[0]
        if first == "[" or first == "{":
            value, end = self._flow(text, 0, depth)
            if _FLOW_END.match(text, end) is None:
                raise _OutOfSubset
            return value  # not remembered: a list or dict is a new one each time
        if first == "'":
            quoted = _SINGLE_QUOTED.match(text)
            if quoted is None:
                raise _OutOfSubset
            return self._parser.remember(text, quoted.group(1).replace("''", "'"))
        if first == '"':
            quoted = _DOUBLE_QUOTED.match(text)
            if quoted is None:
                raise _OutOfSubset
            return self._parser.remember(text, quoted.group(1))
        plain = text
        comment = plain.find(" #")
        if comment >= 0:
            plain = plain[:comment]
        plain = plain.rstrip(" ")
        if (
            (first in _INDICATORS and (first != "-" or plain[1:2] in _NOT_AFTER_DASH))
            or ": " in plain
            or plain[-1] == ":"
        ):
            raise _OutOfSubset
        return self._parser.remember(text, self._parser.plain(plain))

    # --- flow collections on one line: ``[a, b]``, ``{k: v, k2: [x]}``, ``[]``, ``{}``

    def _flow(self, text: str, at: int, depth: int) -> tuple[Any, int]:
        """The flow node at ``text[at]`` (of nesting ``depth``) and where it ends."""
        first = text[at : at + 1]
        if first == "[":
            return self._flow_sequence(text, at, depth)
        if first == "{":
            return self._flow_mapping(text, at, depth)
        return self._flow_scalar(text, at)

    def _flow_sequence(self, text: str, at: int, depth: int) -> tuple[list[Any], int]:
        if depth > self._max_depth:
            raise _OutOfSubset
        at = _skip_spaces(text, at + 1)
        sequence: list[Any] = []
        if text[at : at + 1] == "]":
            return sequence, at + 1
        while True:
            item, at = self._flow(text, at, depth + 1)
            sequence.append(item)
            at = _skip_spaces(text, at)
            separator = text[at : at + 1]
            if separator == "]":
                return sequence, at + 1
            if separator != ",":
                raise _OutOfSubset  # `a: b` (a pair in a list), or no end on this line
            at = _skip_spaces(text, at + 1)

    def _flow_mapping(self, text: str, at: int, depth: int) -> tuple[dict[Any, Any], int]:
        if depth > self._max_depth:
            raise _OutOfSubset
        at = _skip_spaces(text, at + 1)
        mapping: dict[Any, Any] = {}
        if text[at : at + 1] == "}":
            return mapping, at + 1
        pairs = 0
        while True:
            start = at
            key, at = self._flow_scalar(text, at)
            colon = _FLOW_COLON.match(text, at)
            if colon is None or at - start > _KEY_SIZE:
                raise _OutOfSubset  # no `: ` right after the key, or libyaml's key limit
            mapping[key], at = self._flow(text, colon.end(), depth + 1)
            pairs += 1
            at = _skip_spaces(text, at)
            separator = text[at : at + 1]
            if separator == "}":
                break
            if separator != ",":
                raise _OutOfSubset
            at = _skip_spaces(text, at + 1)
        if len(mapping) != pairs:
            self._repeated_key = True
        return mapping, at + 1

    def _flow_scalar(self, text: str, at: int) -> tuple[Any, int]:
        first = text[at : at + 1]
        if first == "'":
            quoted = _FLOW_SINGLE.match(text, at)
            if quoted is None:
                raise _OutOfSubset
            return quoted.group(1).replace("''", "'"), quoted.end()
        if first == '"':
            quoted = _FLOW_DOUBLE.match(text, at)
            if quoted is None:
                raise _OutOfSubset
            return quoted.group(1), quoted.end()
        plain = _FLOW_PLAIN.match(text, at)
        if plain is None:
            raise _OutOfSubset
        text = plain.group()
        value = self._memo.get(text, _UNKNOWN)
        if value is _UNKNOWN:
            value = self._parser.remember(text, self._parser.plain(text))
        return value, plain.end()


def _skip_spaces(text: str, at: int) -> int:
    if text[at : at + 1] != " ":
        return at
    spaces = _SPACES.match(text, at)
    return spaces.end() if spaces is not None else at
