"""YAML text -> documents, fast; and, only when a problem needs one, the line of a field.

Loading is the hot path (a registry may hold thousands of models), so documents are
parsed by libyaml when it is there and no position is kept. When a problem needs a
line, :class:`SourceMap` composes that one text again and walks its nodes.

Scalars resolve as in YAML 1.2, the version editors validate against: only
``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay strings, so a
country code ``no`` is not ``False``), and dates stay strings. Numbers and nulls
resolve as PyYAML always did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # PyYAML built without libyaml: same results, slower
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Keys SafeConstructor treats specially: ``<<`` merges, ``=`` is a value key.
_SPECIAL_KEY_TAGS = frozenset({_MERGE_TAG, "tag:yaml.org,2002:value"})
_NOT_BUILT = object()

PathParts = tuple[str | int, ...]


class _Loader(_FastLoader):
    """Safe loading with YAML 1.2 booleans, a cheap duplicate-key flag, and fast paths.

    Loading thousands of files is the floor of every command's time, and PyYAML's
    resolver and constructor are pure Python even over libyaml. The fast paths below
    handle the plain tags (str, int, float, bool, null, map, seq) with fewer calls and
    hand everything else to PyYAML's SafeConstructor, so results are the same.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated_key = False

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # The base method also serves path resolvers, which safe loading never has.
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return str(tag)
            return self.DEFAULT_SCALAR_TAG
        if kind is SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG

    def construct_document(self, node: Node) -> Any:
        # An alias is the same node twice: build it once, as PyYAML does, so an
        # alias-heavy file stays small and a self-referencing one terminates.
        self._built: dict[int, Any] = {}
        try:
            return self._construct(node)
        finally:
            self._built = {}

    def _construct(self, node: Node) -> Any:
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR_TAG:
                return node.value
            scalar = _SCALARS.get(tag)
            if scalar is not None:
                return scalar(self, cast(ScalarNode, node))
            return self._construct_slowly(node)
        built = self._built.get(id(node), _NOT_BUILT)
        if built is not _NOT_BUILT:
            return built
        if kind is MappingNode and tag == _MAP_TAG:
            mapping: dict[Any, Any] = {}
            self._built[id(node)] = mapping
            for key, value in node.value:
                if key.__class__ is not ScalarNode or key.tag in _SPECIAL_KEY_TAGS:
                    return self._construct_slowly(node)  # merge keys, complex keys
                mapping[self._construct(key)] = self._construct(value)
            # PyYAML lets a repeated key overwrite the first; a dict smaller than the
            # node's pairs is the only cheap sign of it.
            if len(mapping) != len(node.value):
                self.repeated_key = True
            return mapping
        if kind is SequenceNode and tag == _SEQ_TAG:
            sequence: list[Any] = []
            self._built[id(node)] = sequence
            sequence.extend(self._construct(item) for item in node.value)
            return sequence
        return self._construct_slowly(node)

    def _construct_slowly(self, node: Node) -> Any:
        try:
            data = self.construct_object(node, deep=True)
        finally:
            self.constructed_objects = {}
            self.recursive_objects = {}
        if not isinstance(node, ScalarNode):
            self._built[id(node)] = data
        return data

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        mapping = super().construct_mapping(node, deep)
        # As in _construct. Here a key overriding a merged ``<<`` key looks the same:
        # SourceMap.duplicate_keys tells them apart, and only when this fires.
        if len(mapping) != len(node.value):
            self.repeated_key = True
        return mapping


_SCALARS: dict[str, Callable[[SafeConstructor, ScalarNode], Any]] = {
    "tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
    _BOOL_TAG: SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in _FastLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Document:
    """One YAML document of a file, constructed to plain Python data."""

    index: int  # position in the file, 0-based
    line: int  # 1-based line where its root node starts
    data: Any
    maybe_duplicate_keys: bool  # confirm with SourceMap.duplicate_keys


@dataclass(frozen=True)
class YamlError:
    """A YAML text that does not parse or construct; ``line`` 0 when unknown."""

    line: int
    message: str


def parse_documents(text: str) -> tuple[list[Document], YamlError | None]:
    """Parse every document of ``text``; stop at the first syntax error.

    Documents before the error are returned. A document whose construction fails
    (an unknown tag, say) ends the parse with its error too.
    """
    loader = _Loader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            loader.repeated_key = False
            data = loader.construct_document(node)
            documents.append(
                Document(len(documents), node.start_mark.line + 1, data, loader.repeated_key)
            )
    except yaml.YAMLError as exc:
        return documents, _describe_yaml_error(exc)
    finally:
        loader.dispose()
    return documents, None


def _describe_yaml_error(exc: yaml.YAMLError) -> YamlError:
    # Only the problem text, never the snippet PyYAML appends: it could hold a secret.
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or "cannot be parsed"
        context = f" ({exc.context})" if exc.context else ""
        kind = (
            "YAML error"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        return YamlError(line, f"{kind}: {problem}{context}")
    return YamlError(0, f"YAML error: {type(exc).__name__}")


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one mapping: ``path`` ends with the key."""

    path: PathParts
    first_line: int
    second_line: int


class SourceMap:
    """Where things are in one YAML text; composes the text on first use only."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._roots: list[Node] | None = None

    def _documents(self) -> list[Node]:
        if self._roots is None:
            roots: list[Node] = []
            loader = _Loader(self._text)
            try:
                while loader.check_node():
                    node = loader.get_node()
                    if node is None:
                        break
                    roots.append(node)
            except yaml.YAMLError:
                pass  # the documents before a syntax error still have lines
            finally:
                loader.dispose()
            self._roots = roots
        return self._roots

    def document_at(self, line: int) -> int | None:
        """The index of the document whose root starts at ``line``, if any."""
        for index, root in enumerate(self._documents()):
            if root.start_mark.line + 1 == line:
                return index
        return None

    def line_of(self, document: int, path: Sequence[str | int]) -> int:
        """The 1-based line of ``path`` in a document, or of its deepest part that exists.

        A mapping key's line is the line of the key; a list item's is where the item
        starts. A missing field so gets the line of the mapping that should hold it.
        Returns 0 when the document does not exist.
        """
        roots = self._documents()
        if not 0 <= document < len(roots):
            return 0
        node = roots[document]
        line = node.start_mark.line + 1
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            marker, node = found
            line = marker.start_mark.line + 1
        return line

    def duplicate_keys(self, document: int) -> list[DuplicateKey]:
        """Every key written twice in one mapping of a document, in file order."""
        roots = self._documents()
        if not 0 <= document < len(roots):
            return []
        found: list[DuplicateKey] = []
        # Constructing keys makes ``1`` and ``0x1`` equal, as they are in the loaded dict.
        _find_duplicates(roots[document], (), SafeConstructor(), set(), found)
        return found


def _child(node: Node, part: str | int) -> tuple[Node, Node] | None:
    """(marker, child): the key and value for a mapping, the item twice for a list."""
    if isinstance(node, MappingNode):
        wanted = str(part)
        # The last occurrence wins, as it does in the loaded dict.
        for key, value in reversed(node.value):
            if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG and key.value == wanted:
                return key, value
        for key, value in node.value:
            if key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:
                    merged = _child(source, part)
                    if merged is not None:
                        return merged
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: Node = node.value[part]
        return item, item
    return None


def _find_duplicates(
    node: Node,
    path: PathParts,
    constructor: SafeConstructor,
    seen: set[int],
    found: list[DuplicateKey],
) -> None:
    if id(node) in seen:  # an alias: already walked where its anchor is
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_lines: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG:
                name = constructor.construct_object(key)
                line = key.start_mark.line + 1
                if name in first_lines:
                    found.append(DuplicateKey((*path, str(name)), first_lines[name], line))
                else:
                    first_lines[name] = line
                _find_duplicates(value, (*path, str(name)), constructor, seen, found)
            else:
                _find_duplicates(value, path, constructor, seen, found)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*path, index), constructor, seen, found)
