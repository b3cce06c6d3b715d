"""YAML text -> documents, through libyaml; the line of a field only when a problem needs it.

Loading is the hot path (a registry may hold thousands of models), so no position is
kept: libyaml (when it is there) composes each text and :class:`_Loader` constructs it.
When a problem needs a line, :class:`SourceMap` composes that one text again and walks
its nodes. There is one reader: what a reviewer sees in a plan is what this module read.

Scalars resolve as in YAML 1.2, the version editors validate against: only
``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay strings, so a
country code ``no`` is not ``False``), and dates stay strings. Numbers and nulls
resolve as PyYAML always did.

Every document is measured before it is constructed (:func:`_measure`): a node that
contains itself through an alias, a document that aliases expand past
:data:`MAX_EXPANDED_NODES` nodes or :data:`MAX_EXPANDED_CHARS` characters, nesting
deeper than :data:`MAX_DEPTH` and integers longer than :data:`MAX_INT_DIGITS` digits
are errors at their line. So no text costs more than a fixed amount of time and
memory after it is parsed, whatever its aliases do. libyaml's own bounds hold too: a
plain key runs at most 1,024 characters before its ``:``.

What parsing itself builds is bounded too: a text of more than ``max_nodes`` nodes
(:data:`MAX_FILE_NODES` unless the caller says otherwise) is refused as the node past
the bound is composed, before the rest of the text is, since every node costs some
hundreds of bytes until the document is built (a 10 MB file of 669,000 short lines
took 1.6 GB).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from registry_sync.schema.credentials import SHORTEST_CREDENTIAL
from registry_sync.schema.values import format_path

# Re-exported: what parse_documents returns.
from registry_sync.yamlio.document import Document, PathParts, YamlError
from registry_sync.yamlio.files import MAX_FILE_NODES

__all__ = [
    "JUDGED_LENGTH",
    "MAX_DEPTH",
    "MAX_EXPANDED_CHARS",
    "MAX_EXPANDED_NODES",
    "MAX_INT_DIGITS",
    "DuplicateKey",
    "SourceMap",
    "parse_counted",
    "parse_documents",
    "plain_tag",
]

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
# Shorter text cannot hold a key of a well-known format: the judge is not asked.
JUDGED_LENGTH = SHORTEST_CREDENTIAL


# Bounds on a document once aliases are expanded, and on any document's nesting.
MAX_EXPANDED_NODES = 10_000
MAX_EXPANDED_CHARS = 1_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 1_000
_INT_TAG = "tag:yaml.org,2002:int"


class _Loader(_FastLoader):
    """Safe loading with YAML 1.2 booleans, a cheap duplicate-key flag, and shortcuts.

    Loading thousands of files is the floor of every command's time, and PyYAML's
    resolver and constructor are pure Python even over libyaml. The shortcuts below
    handle the plain tags (str, int, float, bool, null, map, seq) with fewer calls and
    hand everything else to PyYAML's SafeConstructor, so results are the same.
    """

    def __init__(self, stream: str, max_nodes: int = MAX_FILE_NODES) -> None:
        super().__init__(stream)
        # libyaml's composer calls descend_resolver before it builds each node (the
        # base method serves path resolvers, which safe loading never has): here it
        # counts them, and raising stops the text's composition at the bound. A
        # closure, not a method: an attribute of this class (a subclass of libyaml's
        # extension type) costs twice a plain object's, and at 2,000 files counting in
        # attributes took 23 ms against 6 ms.
        descend, self._counted = _node_counter(max_nodes)
        self.descend_resolver = descend  # type: ignore[method-assign,assignment]
        self.repeated_key = False
        # Of the document being built (see Document): a null scalar, or a value that
        # JSON would not give back as it is. Set on the rare paths only.
        self.null_seen = False
        self.not_json = False
        # The text keys and the text values holding "://" or at least JUDGED_LENGTH
        # long of the document being built, for the caller's judgement
        # (parse_documents' ``judge``): a link, or room for a key.
        self.names: set[str] = set()
        self.links: list[str] = []
        self.unjudged = False

    @property
    def nodes(self) -> int:
        """The nodes composed so far."""
        return self._counted()

    # libyaml calls these two for every node too (see descend_resolver above).
    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                resolvers = _IMPLICIT.get(value[:1])
                if resolvers is not None:
                    for tag, regexp in resolvers:
                        if regexp.match(value):
                            return tag
            return _STR_TAG
        if kind is SequenceNode:
            return _SEQ_TAG
        return _MAP_TAG

    def construct_document(self, node: Node, *, checked: bool = False) -> Any:
        """The data of ``node``. With ``checked``, the walk that builds a tree (a text
        without aliases) is also its check against the bounds: it raises
        :class:`_NearABound` on a collection :data:`MAX_DEPTH` deep or an integer longer
        than :data:`MAX_INT_DIGITS` digits, before building either."""
        # An alias is the same node twice: build it once, as PyYAML does, so an
        # alias-heavy file stays small and a self-referencing one terminates.
        self._built: dict[int, Any] = {}
        self._max_depth = MAX_DEPTH if checked else sys.maxsize
        self._max_int_digits = MAX_INT_DIGITS if checked else sys.maxsize
        try:
            return self._construct(node, 1)
        finally:
            self._built = {}

    def _construct(self, node: Node, depth: int) -> Any:
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR_TAG:
                if len(node.value) >= JUDGED_LENGTH or "://" in node.value:
                    self.links.append(node.value)
                return node.value
            scalar = _SCALARS.get(tag)
            if scalar is not None:
                if tag == _INT_TAG and len(node.value) > self._max_int_digits:
                    raise _NearABound
                try:
                    value = scalar(self, cast(ScalarNode, node))
                except _UNREADABLE as exc:  # an explicit tag on the wrong text: !!int x
                    raise _unreadable(node) from exc
                if value is None:
                    self.null_seen = True
                elif value.__class__ is int:
                    if not -_JSON_INT_LIMIT < value < _JSON_INT_LIMIT:
                        self.not_json = True
                elif value.__class__ is float and not math.isfinite(value):
                    self.not_json = True
                return value
            return self._construct_slowly(node, depth)
        built = self._built.get(id(node), _NOT_BUILT)
        if built is not _NOT_BUILT:
            return built
        if depth >= self._max_depth:
            raise _NearABound
        depth += 1
        if kind is MappingNode and tag == _MAP_TAG:
            mapping: dict[Any, Any] = {}
            self._built[id(node)] = mapping
            names = self.names
            for key, value in node.value:
                if key.__class__ is not ScalarNode or key.tag in _SPECIAL_KEY_TAGS:
                    return self._construct_slowly(node, depth - 1)  # merge keys, complex keys
                if key.tag != _STR_TAG:
                    self.not_json = True  # a key JSON would give back as text
                # Most keys and values are text: taken here, without a call each. A
                # key's text is interned: thousands of files repeat the same few keys.
                if key.tag == _STR_TAG:
                    name = sys.intern(key.value)
                    names.add(name)
                else:
                    name = self._construct(key, depth)
                if value.__class__ is ScalarNode and value.tag == _STR_TAG:
                    text = value.value
                    if len(text) >= JUDGED_LENGTH or "://" in text:
                        self.links.append(text)
                    mapping[name] = text
                else:
                    mapping[name] = self._construct(value, depth)
            # PyYAML lets a repeated key overwrite the first; a dict smaller than the
            # node's pairs is the only cheap sign of it.
            if len(mapping) != len(node.value):
                self.repeated_key = True
            return mapping
        if kind is SequenceNode and tag == _SEQ_TAG:
            sequence: list[Any] = []
            self._built[id(node)] = sequence
            for item in node.value:
                if item.__class__ is ScalarNode and item.tag == _STR_TAG:
                    text = item.value
                    if len(text) >= JUDGED_LENGTH or "://" in text:
                        self.links.append(text)
                    sequence.append(text)
                else:
                    sequence.append(self._construct(item, depth))
            return sequence
        return self._construct_slowly(node, depth - 1)

    def _construct_slowly(self, node: Node, depth: int) -> Any:
        # Whatever PyYAML builds here (a set, a date, a merge) is not judged: assume both.
        self.null_seen = self.not_json = self.unjudged = True
        # PyYAML's constructor recurses unchecked: check what it will build first.
        if self._max_depth <= MAX_DEPTH and not _small_tree(node, depth):
            raise _NearABound
        try:
            data = self.construct_object(node, deep=True)
        except _UNREADABLE as exc:
            raise _unreadable(node) from exc
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


def _node_counter(
    max_nodes: int,
) -> tuple[Callable[[Node | None, object], None], Callable[[], int]]:
    """A ``descend_resolver`` that counts the nodes composed and raises
    :class:`_TooManyNodes` at the one past ``max_nodes``, and what returns the count."""
    count = 0

    def descend(current_node: Node | None, current_index: object) -> None:
        nonlocal count
        count += 1
        if count > max_nodes:
            raise _TooManyNodes(_line_near(current_node, current_index))

    def counted() -> int:
        return count

    return descend, counted


class _NearABound(Exception):
    """A tree near a bound of :func:`_measure`, which decides, and says where."""


class _TooManyNodes(yaml.YAMLError):
    """The text has more nodes than the loader's ``max_nodes``; ``line`` is near the
    first node past the bound. A YAMLError: a SourceMap stops there as at a syntax
    error."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _line_near(parent: Node | None, index: object) -> int:
    """The line of the node being composed below ``parent``: that of its key, or of
    the end of the sibling before it (0 for a document's root)."""
    if isinstance(index, Node):
        return index.start_mark.line + 1
    if parent is None or not parent.value:
        return 0 if parent is None else parent.start_mark.line + 1
    before = parent.value[-1]
    node = before[1] if isinstance(before, tuple) else before
    mark = node.end_mark or node.start_mark
    return int(mark.line) + 1


# What PyYAML's constructors raise, beyond YAMLError, on text its tag cannot read.
_UNREADABLE = (
    ArithmeticError,
    AttributeError,
    LookupError,
    TypeError,
    ValueError,
)


def _unreadable(node: Node) -> yaml.constructor.ConstructorError:
    kind = node.tag.rpartition(":")[2] or node.tag
    return yaml.constructor.ConstructorError(
        None, None, f"this value is not a valid {kind}, as its tag says", node.start_mark
    )


# JSON as the parse cache stores it holds integers inside 64 bits (and a sign).
_JSON_INT_LIMIT = 1 << 64

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
# The same, typed, for _Loader.resolve: tags by the first character of the text.
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = _Loader.yaml_implicit_resolvers


def plain_tag(text: str) -> str:
    """The tag this reader gives ``text`` written as a plain (unquoted) scalar:
    ``tag:yaml.org,2002:str`` when it stays text. What a writer must quote is any
    text for which this is not the text tag."""
    for tag, regexp in _IMPLICIT.get(text[:1], ()):
        if regexp.match(text):
            return tag
    return _STR_TAG


def parse_documents(
    text: str, judge: Callable[[set[str], list[str]], bool] | None = None
) -> tuple[list[Document], YamlError | None]:
    """Parse every document of ``text``; stop at the first syntax error.

    Documents before the error are returned. A document whose construction fails
    (an unknown tag, say) ends the parse with its error too, and so does the node
    past :data:`MAX_FILE_NODES`. ``judge`` is asked, for each document, about the
    text keys and the text values holding ``://`` or at least :data:`JUDGED_LENGTH`
    characters long it has, anywhere; its answer is the document's ``flagged`` (True
    when not asked, or when the reader built part of it without seeing every key and
    value).
    """
    documents, error, _ = parse_counted(text, judge)
    return documents, error


def parse_counted(
    text: str,
    judge: Callable[[set[str], list[str]], bool] | None = None,
    max_nodes: int = MAX_FILE_NODES,
) -> tuple[list[Document], YamlError | None, int]:
    """:func:`parse_documents`, bounded at ``max_nodes`` nodes, with the number of
    nodes composed: past ``max_nodes`` when that is the error."""
    loader = _Loader(text, max_nodes)
    documents: list[Document] = []
    spent = _Expansion()
    # An alias is written `*name`: text without a `*` is a tree, which building checks
    # (``_measure`` is only needed to say where and why it is too big).
    tree = "*" not in text
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            data = _NOT_BUILT
            loader.null_seen = loader.not_json = loader.unjudged = False
            loader.names = set()
            loader.links = []
            if tree:
                loader.repeated_key = False
                try:
                    data = loader.construct_document(node, checked=True)
                except _NearABound:
                    pass  # _measure says where and why
                except yaml.YAMLError:
                    if _small_tree(node):
                        raise
                    # A bound is the error to report, as if checked before building.
            if data is _NOT_BUILT:
                shape_error = _measure(node, spent)
                if shape_error is not None:
                    return documents, shape_error, loader.nodes
                loader.repeated_key = False
                loader.null_seen = loader.not_json = loader.unjudged = False
                loader.names = set()
                loader.links = []
                data = loader.construct_document(node)
            documents.append(
                Document(
                    len(documents),
                    node.start_mark.line + 1,
                    data,
                    loader.repeated_key,
                    maybe_null=loader.null_seen,
                    json_exact=not loader.not_json,
                    flagged=(judge is None or loader.unjudged or judge(loader.names, loader.links)),
                )
            )
    except _TooManyNodes as exc:
        message = (
            f"more than {max_nodes:,} YAML nodes (keys, values, lists and mappings), the "
            "bound on one file; a model is a few dozen: split the file"
        )
        return documents, YamlError(exc.line, message), loader.nodes
    except yaml.YAMLError as exc:
        return documents, _describe_yaml_error(exc, text), loader.nodes
    finally:
        loader.dispose()
    return documents, None, loader.nodes


def _describe_yaml_error(exc: yaml.YAMLError, text: str) -> YamlError:
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
        if problem.startswith(_MAPPING_VALUES_NOT_ALLOWED):
            over = _over_indented(text, line)
            if over is not None:
                return YamlError(line, f"{kind}: {over}")
        return YamlError(line, f"{kind}: {problem}{context}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        character = exc.character if isinstance(exc.character, int) else 0
        return YamlError(
            line, f"YAML syntax error: character U+{character:04X} is not allowed in YAML text"
        )
    return YamlError(0, f"YAML error: {type(exc).__name__}")


# What libyaml (and PyYAML's scanner: "... here") says of a key indented deeper than
# the key above it, which already holds a value on its line.
_MAPPING_VALUES_NOT_ALLOWED = "mapping values are not allowed"
# A key and what follows it on its line: `  envVar: X`, `- name: x`.
_KEY_LINE = re.compile(
    r"^(?P<indent>[ -]*)(?P<key>[^\s#'\"{\[&*!|>%@`-][^:#]*?):(?:\s+(?P<value>\S.*))?$"
)


def _over_indented(text: str, line: int) -> str | None:
    """For the key on ``line`` (1-based) that is indented deeper than the key above
    it, "'KEY' is indented too far under 'ABOVE'..."; None when the line is not that."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    found = _KEY_LINE.match(lines[line - 1])
    if found is None:
        return None
    indent = len(found["indent"])
    for number in range(line - 1, 0, -1):
        above = lines[number - 1]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        parent = _KEY_LINE.match(above)
        if parent is None or len(parent["indent"]) >= indent or parent["value"] is None:
            return None
        key, under = found["key"].strip(), parent["key"].strip()
        return (
            f"'{key}' is indented too far under '{under}' (line {number}), which already "
            f"has a value: line it up with '{under}'"
        )
    return None


@dataclass
class _Expansion:
    """What aliases have added so far to the documents of one text."""

    nodes: int = 0
    chars: int = 0


def _measure(root: Node, spent: _Expansion) -> YamlError | None:
    """The first reason ``root`` is too costly to construct, or None.

    Walks the node graph once, iteratively (no recursion limit to hit), each distinct
    node once: sizes after alias expansion are summed bottom-up, so a fan-out of
    aliases is measured without being expanded. What aliases add is also counted
    in ``spent``, across the documents of a file, so many small fan-outs cannot add
    up to a large one.
    """
    # id(node) -> (nodes, characters, height) once expanded; filled bottom-up.
    measured: dict[int, tuple[int, int, int]] = {}
    aliased = False
    stack: list[tuple[Node, Iterator[tuple[str | int | None, Node]], PathParts]] = [
        (root, _children(root), ())
    ]
    active = {id(root)}
    while stack:
        node, children, path = stack[-1]
        for part, child in children:
            child_path = path if part is None else (*path, part)
            if id(child) in active:
                where = next(at for above, _, at in stack if above is child)
                return _shape_error(child, where, "a YAML alias refers to its own parent")
            if id(child) in measured:
                aliased = True
                continue
            if isinstance(child, ScalarNode):
                if child.tag == _INT_TAG and len(child.value) > MAX_INT_DIGITS:
                    return _shape_error(
                        child,
                        child_path,
                        f"an integer longer than {MAX_INT_DIGITS:,} digits; quote it if it is text",
                    )
                measured[id(child)] = (1, len(child.value), 1)
                continue
            if len(stack) >= MAX_DEPTH:
                # The top-level field is enough to find it; the full path would be huge.
                return _shape_error(
                    child, child_path[:1], f"YAML nested more than {MAX_DEPTH} levels deep"
                )
            active.add(id(child))
            stack.append((child, _children(child), child_path))
            break
        else:
            stack.pop()
            active.discard(id(node))
            measured[id(node)] = _total(node, measured)
    nodes, chars, height = measured.get(id(root), (1, 0, 1))
    if height > MAX_DEPTH:
        message = f"YAML aliases nest this document more than {MAX_DEPTH} levels deep"
        return _shape_error(root, (), message)
    if not aliased:
        return None
    if nodes > MAX_EXPANDED_NODES or chars > MAX_EXPANDED_CHARS:
        return _shape_error(
            root,
            (),
            f"YAML aliases expand this document past {MAX_EXPANDED_NODES:,} nodes or "
            f"{MAX_EXPANDED_CHARS:,} characters; write the values out, with fewer aliases",
        )
    written = [value for key, value in measured.items() if key != id(root)]
    spent.nodes += nodes - 1 - len(written)
    spent.chars += chars - sum(value[1] for value in written if value[0] == 1)
    if spent.nodes > MAX_EXPANDED_NODES or spent.chars > MAX_EXPANDED_CHARS:
        return _shape_error(
            root,
            (),
            f"YAML aliases across this file's documents add more than "
            f"{MAX_EXPANDED_NODES:,} nodes or {MAX_EXPANDED_CHARS:,} characters; write the "
            "values out, with fewer aliases",
        )
    return None


def _small_tree(root: Node, depth: int = 1) -> bool:
    """True when ``root``, a tree (no aliases) at ``depth``, is plainly within the
    bounds: no node :data:`MAX_DEPTH` or more deep and no over-long integer. False sends
    it to :func:`_measure`, which finds the exact problem (or none, near the bound)."""
    stack = [(root, depth)]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return False
        kind = node.__class__
        if kind is ScalarNode:
            if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
                return False
        elif kind is MappingNode:
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in node.value)
    return True


def _children(node: Node) -> Iterator[tuple[str | int | None, Node]]:
    """Each child with its path part: None for a key, the key for a value."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield None, key
            yield (key.value if isinstance(key, ScalarNode) else None), value
    elif isinstance(node, SequenceNode):
        yield from enumerate(node.value)


def _total(node: Node, measured: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    if isinstance(node, ScalarNode):
        return 1, len(node.value), 1
    nodes, chars, height = 1, 0, 0
    for _, child in _children(node):
        child_nodes, child_chars, child_height = measured[id(child)]
        nodes += child_nodes
        chars += child_chars
        height = max(height, child_height)
    return nodes, chars, height + 1


def _shape_error(node: Node, path: PathParts, message: str) -> YamlError:
    return YamlError(node.start_mark.line + 1, message, format_path(path))


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
        self._keys = _Keys()

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
            found = self._keys.child(node, part)
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
        _find_duplicates(roots[document], (), self._keys, set(), found)
        return found


def _key_identity(name: Any) -> tuple[type, Any]:
    """A mapping key as the loaded data holds it: ``1``, ``true`` and ``"1"`` differ."""
    return type(name), name


class _Keys:
    """The (key, value) nodes of every mapping of a document, indexed on first use, so
    a lookup costs O(1) however many keys a mapping has."""

    def __init__(self) -> None:
        self._constructor = SafeConstructor()
        self._by_node: dict[int, dict[tuple[type, Any], tuple[Node, Node]]] = {}

    def name(self, key: ScalarNode) -> Any:
        """The key as loaded (``0x1`` is 1); its text when it does not construct."""
        try:
            return self._constructor.construct_object(key)
        except (yaml.YAMLError, *_UNREADABLE):
            return key.value

    def child(self, node: Node, part: str | int) -> tuple[Node, Node] | None:
        """(marker, child): the key and value for a mapping, the item twice for a list."""
        if isinstance(node, MappingNode):
            return self._in_mapping(node, part)
        if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            item: Node = node.value[part]
            return item, item
        return None

    def _in_mapping(self, node: MappingNode, part: str | int) -> tuple[Node, Node] | None:
        index = self._by_node.get(id(node))
        if index is None:
            index = {}
            # The last occurrence wins, as it does in the loaded dict.
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG:
                    index[_key_identity(self.name(key))] = (key, value)
                    index.setdefault((ScalarNode, key.value), (key, value))
            self._by_node[id(node)] = index
        found = index.get(_key_identity(part))
        if found is None and isinstance(part, str):
            found = index.get((ScalarNode, part))  # a key written as ``0x1`` asked as text
        if found is not None:
            return found
        for key, value in node.value:
            if key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:
                    merged = self.child(source, part)
                    if merged is not None:
                        return merged
        return None


def _find_duplicates(
    node: Node,
    path: PathParts,
    keys: _Keys,
    seen: set[int],
    found: list[DuplicateKey],
) -> None:
    if id(node) in seen:  # an alias: already walked where its anchor is
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_lines: dict[tuple[type, Any], int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG:
                name = keys.name(key)
                line = key.start_mark.line + 1
                identity = _key_identity(name)
                if identity in first_lines:
                    found.append(DuplicateKey((*path, str(name)), first_lines[identity], line))
                else:
                    first_lines[identity] = line
                _find_duplicates(value, (*path, str(name)), keys, seen, found)
            else:
                _find_duplicates(value, path, keys, seen, found)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*path, index), keys, seen, found)
