"""models/ folder -> desired definitions, with file:line for every problem.

:func:`load_models` reads every ``*.yaml``/``*.yml`` file below the folder and returns
the valid definitions and *all* problems of all files, sorted, so one run shows
everything to fix. Lines are looked up only for problems: valid files are parsed once,
with no position kept (see :mod:`registry_sync.yamlio.source`).

No message ever repeats a value found under ``auth``, ``baseUrl`` or
``healthCheck.url``: those may hold secrets.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import stat
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_sync.desired.bounds import DEFAULT_LIMITS, LoadLimits, WorkBudget, count_nodes
from registry_sync.desired.parsecache import CachedDocument, CachedFile, ParseCache, content_key
from registry_sync.errors import ConfigError
from registry_sync.gcpause import gc_paused
from registry_sync.schema.credentials import has_credential_shape
from registry_sync.schema.fields import (
    PATTERN_MEANINGS,
    health_check_form,
    is_advice,
    misplaced_field_home,
)
from registry_sync.schema.problems import Problem, Severity
from registry_sync.schema.reroutes import find_cycles, rules_of
from registry_sync.schema.secrets import (
    PLACEHOLDER_ENV_VAR,
    PLACEHOLDER_SECRET,
    is_credential_name,
    may_hold_secrets_elsewhere,
    placeholder_paths,
    secret_paths,
    url_parses,
)
from registry_sync.schema.server import SERVER_OWNED_FIELDS, without_nulls
from registry_sync.schema.suggest import Suggester, suggester
from registry_sync.schema.values import format_path
from registry_sync.yamlio.document import Document, PathParts
from registry_sync.yamlio.files import (
    Unreadable,
    display_path,
    printable_path,
    read_checked,
    walk_model_paths,
)

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from pydantic_core import ErrorDetails

    from registry_sync.yamlio.source import SourceMap

__all__ = [
    "MAX_PROBLEMS_PER_FILE",
    "NULL_MESSAGE",
    "PLACEHOLDER_MESSAGE",
    "SECRET_MESSAGE",
    "SECRET_PLACEHOLDER_MESSAGE",
    "SERVER_OWNED_MESSAGE",
    "UNPARSED_URL_MESSAGE",
    "URL_FORM_MESSAGE",
    "VARIABLE_SECRET_MESSAGE",
    "YAML_SUFFIXES",
    "DesiredDefinition",
    "LoadResult",
    "check_reroute_graph",
    "check_reroute_targets",
    "check_text_document",
    "definition_errors",
    "line_of",
    "load_models",
]

YAML_SUFFIXES = (".yaml", ".yml")

SECRET_MESSAGE = (
    "inline secret; secrets come only as environment variable names "
    "(auth.envVar / auth.envVars), never as values in models/"
)
VARIABLE_SECRET_MESSAGE = (
    "the name of an environment variable belongs here, and this is a key or not a name "
    "(letters, digits and '_', not starting with a digit): it is taken for a secret and "
    "never printed; write the name of the variable the server reads"
)
UNPARSED_URL_MESSAGE = (
    "not a URL that parses, so it cannot be checked for credentials and is never printed; fix it"
)
SERVER_OWNED_MESSAGE = "server-owned field; remove it"
PLACEHOLDER_MESSAGE = (
    f"{PLACEHOLDER_ENV_VAR} is the placeholder export wrote for a secret: set the name "
    "of the environment variable the server reads"
)
SECRET_PLACEHOLDER_MESSAGE = (
    f"{PLACEHOLDER_SECRET} is the placeholder export wrote for a secret: write the value "
    "without it, and give the upstream its credentials through auth.envVar or auth.envVars"
)

URL_FORM_MESSAGE = (
    "the older {url, method} form: the registry may hold it, but the API accepts only "
    "'mode: off', 'mode: preflight' or 'mode: periodic' in a write, so this entry cannot "
    "be created or have its healthCheck changed; move it to a mode form"
)

NULL_MESSAGE = "null reads as the field left out; remove the line"

_SERVER_OWNED = frozenset(SERVER_OWNED_FIELDS)
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_SHOWN = 60
# Problems listed per file; the rest are counted. Also bounds the time spent
# describing them (a file of 40,000 unknown keys).
MAX_PROBLEMS_PER_FILE = 100
_HIDDEN = "(not shown)"


@dataclass(frozen=True)
class DesiredDefinition:
    """One valid definition as a models/ file declares it."""

    id: str
    body: dict[str, Any]  # the loaded YAML mapping, keys as written, validated
    file: str  # display path, e.g. "models/chat.yaml"
    line: int  # 1-based line where the document's mapping starts
    # Values an environment's overlay set (see registry_sync.desired.overlay): field path as
    # format_path writes it -> (overlay file, its document's line, the path there).
    origins: Mapping[str, tuple[str, int, PathParts]] | None = None


@dataclass(frozen=True)
class LoadResult:
    """What a models/ folder holds: valid definitions, and every problem found."""

    definitions: tuple[DesiredDefinition, ...]  # valid ones, sorted by id
    problems: tuple[Problem, ...]  # all of them, warnings too, sorted by (file, line, path)
    notes: tuple[str, ...]  # things skipped on purpose, e.g. empty files
    files: int  # files read

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that make a definition invalid."""
        return tuple(problem for problem in self.problems if problem.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Rules the API does not enforce: the definitions stay valid."""
        return tuple(problem for problem in self.problems if problem.severity == "warning")

    def failing(self, *, strict: bool) -> tuple[Problem, ...]:
        """The problems that fail a command: errors, and warnings too when ``strict``."""
        return self.problems if strict else self.errors


def load_models(
    models_dir: Path,
    cache: ParseCache | None = None,
    written: Mapping[Path, dict[str, Any]] | None = None,
    api: str = "registry",
    limits: LoadLimits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load and validate every YAML file below ``models_dir``, recursively, in path order.

    Never stops at the first problem: each file and each document is checked, and
    every problem is returned. ``cache`` holds what earlier runs found in files
    with the same bytes (None: parse and validate every file). ``written`` maps
    files just written (absolute paths) to the one mapping each is known to load as
    (export's round trip, tested there): they are checked without parsing them. Each
    definition is validated for the API generation ``api`` (``registry`` or
    ``catalog``). The files together are bounded by ``limits``: the file that passes
    one is an error, and no file after it is read. Raises :class:`ConfigError` when
    ``models_dir`` is missing or not a directory.
    """
    if not models_dir.exists():
        raise ConfigError(
            f"load models failed: {models_dir} does not exist; create it, "
            "or pass --models-dir (or set models_dir in registry-sync.yaml) to the folder "
            "that holds the model YAML files"
        )
    if not models_dir.is_dir():
        raise ConfigError(
            f"load models failed: {models_dir} is not a directory; "
            "pass --models-dir (or set models_dir in registry-sync.yaml) to the folder "
            "that holds the model YAML files"
        )
    cwd = Path.cwd()
    files, unreadable = walk_model_paths(models_dir, YAML_SUFFIXES)
    shown = _namer(models_dir, cwd)
    # By display name, then as pathlib orders paths (names that display alike).
    paths = sorted((shown(path), path.split(os.sep), path) for path in files)
    problems = [Problem(display_path(bad.path, cwd), 0, "", bad.reason) for bad in unreadable]
    notes: list[str] = []
    declared: list[_Declared] = []
    real_root = os.path.realpath(models_dir)
    below = len(os.path.join(os.fspath(models_dir), ""))  # where the part below it starts
    budget = WorkBudget(limits)
    with gc_paused():
        if cache is not None:
            cache.open(models_dir, api)
        for display, _, path in paths:
            info = _lstat(path)
            cached = None
            if cache is not None and info is not None and stat.S_ISREG(info.st_mode):
                cached = cache.known(path[below:], info)
            if cached is not None:
                found, empty = _cached_file(
                    _Unread(display, "", path=path, root=real_root), cached, declared
                )
                size, nodes = info.st_size if info else 0, cached.nodes
            else:
                # No status (gone, or a folder without search permission): opening it says why.
                link = info is not None and stat.S_ISLNK(info.st_mode)
                source = _read(display, path, real_root, link, problems)
                if source is None:
                    continue
                known = written.get(Path(path).absolute()) if written else None
                found, empty, nodes = _check_file(source, declared, cache, known, api)
                source.forget_map()
                size = len(source.raw)
                if cache is not None and not link and source.status is not None:
                    cache.remember(path[below:], source.status, source.key)
            if empty:
                notes.append(f"{display}: empty file, skipped")
            problems.extend(_capped(found))
            over = budget.charge(size, nodes)
            if over is not None:
                problems.append(Problem(display, 0, "", over))
                break
        if cache is not None:
            cache.save()
    definitions = _unique_ids(declared, problems)
    return LoadResult(
        definitions=tuple(sorted(definitions, key=lambda definition: definition.id)),
        problems=tuple(sorted(problems)),
        notes=tuple(notes),
        files=len(paths),
    )


def check_reroute_targets(
    definitions: Sequence[DesiredDefinition],
    known_ids: Collection[str],
    live: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Problem]:
    """Problems for reroute rules whose ``targetModelId`` names no model.

    A target must be a desired id (in ``definitions``) or a live id (``known_ids``),
    and not the definition's own id. Each problem is at the ``targetModelId`` line.
    ``live`` maps registry ids to their definitions: a rule to a missing target that
    the registry already holds as it is (the plan leaves it) is a warning, not an error.
    """
    desired = {definition.id for definition in definitions}
    maps: dict[str, SourceMap | None] = {}
    problems: list[Problem] = []
    ids: Suggester | None = None
    for definition in definitions:
        for index, rule in enumerate(definition.body.get("rerouteRules") or ()):
            target = rule["targetModelId"]
            if target == definition.id:
                message = "reroutes to its own id; name another model"
            elif target in desired or target in known_ids:
                continue
            else:
                message = f"no model '{target}' in models/ or in the registry"
                ids = ids or Suggester([*desired, *known_ids])
                close = ids.suggest(target)
                if close:
                    message += f"; did you mean '{close}'?"
            parts = ("rerouteRules", index, "targetModelId")
            line = _line_in(maps, definition, parts)
            severity: Severity = "error"
            if target != definition.id and _live_rule(live, definition.id, target):
                message += f"; already live: {_LEFT_AS_IT_IS}"
                severity = "warning"
            problems.append(Problem(definition.file, line, format_path(parts), message, severity))
    return sorted(problems)


# Said of a condition the API accepts that the registry already holds, unchanged.
_LEFT_AS_IT_IS = "the registry holds it so, and this plan leaves it as it is"


def _live_rule(live: Mapping[str, Mapping[str, Any]] | None, source: str, target: str) -> bool:
    """True when the registry's ``source`` already reroutes to ``target``."""
    if live is None or source not in live:
        return False
    return any(rule.target == target for rule in rules_of(source, live[source]))


def check_reroute_graph(
    definitions: Sequence[DesiredDefinition], live: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Problem]:
    """Problems of the reroute graph as a whole, sorted.

    Errors: a cycle of reroute rules (an entry rerouting to itself included), at the
    first declared rule of the cycle, naming every id of it with file:line; a cycle
    every rule of which the registry already holds (``live``) is a warning, since the
    plan leaves it as it is. Warnings:
    a ``context-exceeded`` rule whose target's ``contextWindow`` is not larger than
    its own, and an ``input-modality`` rule whose target lacks that input modality,
    naming both entries. ``live`` maps registry ids to their definitions: the graph
    then includes the entries no file declares (None: what files alone can tell).
    """
    desired = {definition.id: definition for definition in definitions}
    bodies: dict[str, Mapping[str, Any]] = {
        model_id: body for model_id, body in (live or {}).items() if model_id not in desired
    }
    bodies.update({definition.id: definition.body for definition in definitions})
    maps: dict[str, SourceMap | None] = {}

    def at(definition: DesiredDefinition, index: int) -> tuple[int, str]:
        parts = ("rerouteRules", index, "targetModelId")
        return _line_in(maps, definition, parts), format_path(parts)

    def named(model_id: str) -> str:
        if model_id not in desired:
            return f"{model_id} (in the registry)"
        return f"{model_id} ({desired[model_id].file}:{desired[model_id].line})"

    problems: list[Problem] = []
    rules = {model_id: rules_of(model_id, body) for model_id, body in bodies.items()}
    for cycle in find_cycles(
        {model_id: [r.target for r in found] for model_id, found in rules.items()}
    ):
        steps: list[str] = []
        first: Problem | None = None
        for position, model_id in enumerate(cycle):
            following = cycle[(position + 1) % len(cycle)]
            definition = desired.get(model_id)
            if definition is None:
                steps.append(f"{model_id} (in the registry)")
                continue
            rule = next(r for r in rules[model_id] if r.target == following)
            line, path = at(definition, rule.position)
            steps.append(f"{model_id} ({definition.file}:{line})")
            if first is None:
                first = Problem(definition.file, line, path, "")
        if first is None:
            continue  # only the registry's own entries: no file to fix
        if len(cycle) == 1:
            message = "reroutes to its own id; name another model"
        else:
            message = (
                f"reroute cycle: {' -> '.join(steps)} -> {cycle[0]}; a request could loop "
                "between these models: remove or retarget one of these rules"
            )
        edges = zip(cycle, (*cycle[1:], cycle[0]), strict=True)
        if len(cycle) > 1 and all(_live_rule(live, a, b) for a, b in edges):
            # The API accepts it and the registry has it: not this plan's to refuse.
            message += f"; already live: {_LEFT_AS_IT_IS}"
            first = dataclasses.replace(first, severity="warning")
        problems.append(dataclasses.replace(first, message=message))
    for definition in definitions:
        for rule in rules[definition.id]:
            target = bodies.get(rule.target)
            if target is None or rule.target == definition.id:
                continue
            unsuitable = _unsuitable_target(definition.body, rule.trigger, target)
            if unsuitable:
                line, path = at(definition, rule.position)
                problems.append(
                    Problem(
                        definition.file,
                        line,
                        path,
                        f"{rule.trigger} reroute from {definition.id} to {named(rule.target)}: "
                        f"{unsuitable}",
                        severity="warning",
                    )
                )
    return sorted(problems)


def _unsuitable_target(
    source: Mapping[str, Any], trigger: str, target: Mapping[str, Any]
) -> str | None:
    """Why ``target`` cannot serve what ``trigger`` reroutes, or None when it can."""
    if trigger == "context-exceeded":
        own, theirs = source.get("contextWindow"), target.get("contextWindow")
        if isinstance(own, int) and isinstance(theirs, int) and theirs <= own:
            return (
                f"the target's contextWindow ({theirs}) is not larger than this model's "
                f"({own}), so a request too long here is too long there too"
            )
    elif trigger.startswith("input-modality:"):
        modality = trigger.split(":", 1)[1]
        capabilities = target.get("capabilities")
        modalities = capabilities.get("modalities") if isinstance(capabilities, Mapping) else None
        inputs = modalities.get("input") if isinstance(modalities, Mapping) else None
        if isinstance(inputs, list) and modality not in inputs:
            taken = ", ".join(map(str, inputs))
            return f"the target does not take {modality} input (its input: {taken})"
    return None


def line_of(file: str, document_line: int, path: Sequence[str | int]) -> int:
    """The line of ``path`` in the document of ``file`` that starts at ``document_line``.

    For a field that is not there, the line of the deepest part that is. Falls back
    to ``document_line`` when the file cannot be read or no longer has that document.
    """
    try:
        text = Path(file).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return document_line
    return _line_in_map(_source_map(text), document_line, path)


def _line_in(
    maps: dict[str, SourceMap | None], definition: DesiredDefinition, path: PathParts
) -> int:
    if definition.file not in maps:
        try:
            text = Path(definition.file).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            maps[definition.file] = None
        else:
            maps[definition.file] = _source_map(text)
    source_map = maps[definition.file]
    if source_map is None:
        return definition.line
    return _line_in_map(source_map, definition.line, path)


def _source_map(text: str) -> SourceMap:
    """The source map of ``text``: PyYAML is imported only when a line is looked up."""
    from registry_sync.yamlio.source import SourceMap

    return SourceMap(text)


def _line_in_map(source_map: SourceMap, document_line: int, path: Sequence[str | int]) -> int:
    document = source_map.document_at(document_line)
    if document is None:
        return document_line
    return source_map.line_of(document, path) or document_line


# --- the seam for overlays (registry_sync.desired.overlay) ---------------------------------


def check_text_document(
    display: str, text: str, document: Document, api: str = "registry"
) -> tuple[list[Problem], DesiredDefinition | None]:
    """Check one parsed document of ``text`` (from ``display``) as a whole definition,
    exactly as :func:`load_models` checks a models/ document: its problems, and the
    definition when it is valid."""
    found: list[Problem] = []
    declared = _check_document(_Source(display, text), document, found, api)
    if not declared or not declared[0].valid:
        return _capped(found), None
    item = declared[0]
    return _capped(found), DesiredDefinition(item.id, item.body, display, document.line)


def definition_errors(
    body: dict[str, Any], api: str = "registry"
) -> list[tuple[PathParts, str, Severity]]:
    """What the definition schema of API generation ``api`` says about ``body`` (no
    nulls, no server-owned fields): (path, message, severity) for each finding, as
    :func:`load_models` words them."""
    model, validation_error = _schema(api)
    try:
        model.model_validate(body)
    except validation_error as exc:
        found: list[tuple[PathParts, str, Severity]] = []
        for error in exc.errors(include_url=False):
            path, message = _translate(error, body, api)
            found.append((path, message, "warning" if is_advice(error["type"]) else "error"))
        return found
    return []


@functools.cache
def _schema(api: str) -> tuple[type[BaseModel], type[ValidationError]]:
    """The Definition model of generation ``api`` and pydantic's error, imported on
    first use (a warm run imports neither) and then found without an import statement
    per document."""
    from pydantic import ValidationError

    from registry_sync.schema.definition import definition_model

    return definition_model(api), ValidationError


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """One file's text; its source map is built only if a problem needs a line."""

    display: str
    text: str
    raw: bytes = b""
    status: os.stat_result | None = None  # of the file read, taken before reading it

    @cached_property
    def map(self) -> SourceMap:
        return _source_map(self.text)

    @cached_property
    def key(self) -> str:
        return content_key(self.raw)

    def problem(self, document: Document, path: PathParts, message: str) -> Problem:
        line = self.map.line_of(document.index, path) or document.line
        return Problem(self.display, line, format_path(path), message)

    def forget_map(self) -> None:
        """Drop the source map, built again if a later problem needs a line: the
        declared ids keep their file's source to the end of the run, and a map costs
        some hundreds of bytes a node (a run may read 2,000,000)."""
        self.__dict__.pop("map", None)


@dataclass(frozen=True)
class _Unread(_Source):
    """A file the cache knows by its status: read only if a problem needs a line."""

    path: str = ""
    root: str = ""  # the models folder's real path

    @cached_property
    def map(self) -> SourceMap:
        read = read_checked(self.path, self.root, link=False)
        try:
            text = "" if isinstance(read, Unreadable) else read[0].decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
        return _source_map(text)


@dataclass(frozen=True, slots=True)
class _Declared:
    """A document that names an id: a definition if valid, a clash if repeated."""

    id: str
    source: _Source
    document: Document
    valid: bool
    body: dict[str, Any]  # the document's mapping without its nulls


def _skeleton(item: _Declared) -> _Declared:
    """``item`` without its data: what a repeated id needs (a file of 33,000 invalid
    documents kept 5 MB more that way, for nothing)."""
    document = Document(item.document.index, item.document.line, None, False)
    return replace(item, document=document, body={})


def _namer(root: Path, cwd: Path) -> Callable[[str], str]:
    """:func:`_display` for the paths :func:`walk_model_paths` finds below ``root``,
    by string operations: pathlib per file cost more than reading a cached file."""
    top = os.fspath(root)
    if os.sep != "/" or os.altsep or top.endswith("/"):
        return lambda path: display_path(Path(path), cwd)
    absolute = str(root.absolute())
    given = root.as_posix()
    inside = str(cwd).rstrip("/") + "/"
    start = len(top)

    def name(path: str) -> str:
        rest = path[start:]  # "/team/chat.yaml"
        full = absolute + rest
        return printable_path(full[len(inside) :] if full.startswith(inside) else given + rest)

    return name


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None  # reading it says why


def _read(
    display: str, path: str, real_root: str, link: bool, problems: list[Problem]
) -> _Source | None:
    read = read_checked(path, real_root, link=link)
    if isinstance(read, Unreadable):
        problems.append(Problem(display, 0, "", read.reason))
        return None
    raw, status = read
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        problems.append(
            Problem(display, line, "", f"not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8")
        )
        return None
    return _Source(display, text, raw, status)


def _cached_file(
    source: _Source, cached: CachedFile, declared: list[_Declared]
) -> tuple[list[Problem], bool]:
    """What the cache found in ``source``: its problems (warnings) and whether it is
    empty; its declared ids go to ``declared``."""
    for item in cached.documents:
        document = Document(item.number, item.line, None, maybe_duplicate_keys=False)
        declared.append(_Declared(item.id, source, document, item.valid, item.body))
    found = [Problem(source.display, *warning, severity="warning") for warning in cached.warnings]
    return found, cached.empty


def _check_file(
    source: _Source,
    declared: list[_Declared],
    cache: ParseCache | None,
    known: dict[str, Any] | None = None,
    api: str = "registry",
) -> tuple[list[Problem], bool, int]:
    """The file's problems, whether it is empty and its YAML nodes; its declared ids
    go to ``declared``. ``known`` is the one document the file holds, when its writer
    knows it."""
    cached = cache.get(source.key) if cache is not None else None
    if cached is not None:
        return (*_cached_file(source, cached, declared), cached.nodes)
    if known is not None:
        documents, error = [Document(0, _first_line(source.text), known, False)], None
        nodes = count_nodes(known)
    else:
        from registry_sync.yamlio.source import parse_counted  # a warm run parses nothing

        documents, error, nodes = parse_counted(source.text, may_hold_secrets_elsewhere)
    found = []
    empty = False
    if error is not None:
        found.append(Problem(source.display, error.line, error.path, error.message))
    else:
        empty = all(document.data is None for document in documents)
    mine: list[_Declared] = []
    for document in documents:
        mine.extend(_check_document(source, document, found, api))
    # An invalid document is kept only to find its id repeated: without its data.
    declared.extend(item if item.valid else _skeleton(item) for item in mine)
    if cache is not None and all(problem.severity == "warning" for problem in found):
        # Never a file with errors: an inline secret is one, so none is ever cached.
        entry = CachedFile(
            tuple(
                CachedDocument(d.id, d.valid, d.document.index, d.document.line, d.body)
                for d in mine
            ),
            tuple((problem.line, problem.path, problem.message) for problem in found),
            empty,
            nodes,
        )
        # The reader saw every value it built: no walk of the types again when it
        # found them all plain (the warnings are numbers and text).
        cache.put(source.key, entry, exact=all(d.document.json_exact for d in mine))
    return found, empty, nodes


def _first_line(text: str) -> int:
    """The line where a written document's mapping starts: after its comment header."""
    line = 1
    for row in text.splitlines():
        if not row.startswith("#"):
            break
        line += 1
    return line


# --- checking one document ---------------------------------------------------------------


def _check_document(
    source: _Source, document: Document, problems: list[Problem], api: str = "registry"
) -> list[_Declared]:
    """Append the document's problems; return it as a declared id, if it names one."""
    data = document.data
    if data is None:  # an empty document, e.g. after a trailing '---'
        return []
    if not isinstance(data, dict):
        problems.append(
            Problem(
                source.display,
                document.line,
                "",
                f"expected a mapping of definition fields, got {_describe(data)}",
            )
        )
        return []
    found: list[Problem] = []
    if document.maybe_duplicate_keys:
        for duplicate in source.map.duplicate_keys(document.index):
            found.append(
                Problem(
                    source.display,
                    duplicate.second_line,
                    format_path(duplicate.path),
                    f"duplicate key: first at line {duplicate.first_line}, "
                    f"again at line {duplicate.second_line}; keep one",
                )
            )
    candidate = data
    if not _SERVER_OWNED.isdisjoint(data):
        for key in SERVER_OWNED_FIELDS:
            if key in data:
                found.append(source.problem(document, (key,), SERVER_OWNED_MESSAGE))
        # Validated without them, so they are not reported twice as unknown fields.
        candidate = {key: value for key, value in data.items() if key not in _SERVER_OWNED}
    # The API reads a null as the field left out (a live null means absent too).
    # The same object when it holds no null; the reader says when it saw none at all.
    cleaned = without_nulls(candidate) if document.maybe_null else candidate
    if cleaned is not candidate:
        for path in _null_paths(candidate, ()):
            found.append(replace(source.problem(document, path, NULL_MESSAGE), severity="warning"))
    candidate = cleaned
    # The reader judged the keys and links it built: the walk for secrets outside the
    # known places only when it found a key or link that may be one.
    secrets: list[PathParts] = list(secret_paths(data, elsewhere=document.flagged))
    for path in secrets:
        found.append(source.problem(document, path, _secret_message(data, path)))
    for path in placeholder_paths(data, elsewhere=document.flagged):
        placeholder = _value_at(data, path) == PLACEHOLDER_ENV_VAR
        message = PLACEHOLDER_MESSAGE if placeholder else SECRET_PLACEHOLDER_MESSAGE
        found.append(source.problem(document, path, message))
    # The models cost a fifth of a second to build: only for files the cache lacks.
    model, validation_error = _schema(api)
    try:
        model.model_validate(candidate)
    except validation_error as exc:
        for error in exc.errors(include_url=False):
            if len(found) > MAX_PROBLEMS_PER_FILE:  # counted by _capped, never shown
                found.append(Problem(source.display, document.line, "", _HIDDEN))
                continue
            path, message = _translate(error, candidate, api)
            # Under an inline secret in auth the fix is to delete it; more noise helps no one.
            if any(path[: len(secret)] == secret and secret[0] == "auth" for secret in secrets):
                continue
            problem = source.problem(document, path, message)
            if is_advice(error["type"]):
                problem = replace(problem, severity="warning")
            found.append(problem)
    if health_check_form(candidate.get("healthCheck")) == "url-form":
        found.append(
            replace(
                source.problem(document, ("healthCheck",), URL_FORM_MESSAGE), severity="warning"
            )
        )
    problems.extend(found)
    definition_id = data.get("id")
    if not isinstance(definition_id, str) or not definition_id:
        return []
    valid = not any(problem.severity == "error" for problem in found)
    return [_Declared(definition_id, source, document, valid=valid, body=candidate)]


def _null_paths(value: Any, path: PathParts) -> list[PathParts]:
    found: list[PathParts] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                continue  # a key no definition has: validation names it
            if item is None:
                found.append((*path, key))
            else:
                found.extend(_null_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_null_paths(item, (*path, index)))
    return found


def _capped(found: list[Problem]) -> list[Problem]:
    """One file's problems, at most :data:`MAX_PROBLEMS_PER_FILE` and a count of the rest."""
    if len(found) <= MAX_PROBLEMS_PER_FILE:
        return found
    shown = sorted(problem for problem in found if problem.message != _HIDDEN)
    shown = shown[:MAX_PROBLEMS_PER_FILE]
    summary = (
        f"{len(found)} problems in this file; the first {len(shown)} are listed, "
        "fix them and run validate again"
    )
    return [Problem(shown[0].file, 0, "", summary), *shown]


def _value_at(data: dict[str, Any], path: PathParts) -> Any:
    value: Any = data
    for part in path:
        value = value[part]
    return value


def _secret_message(data: dict[str, Any], path: PathParts) -> str:
    value = _value_at(data, path)
    if path[-1] == "envVar" or path[-2:-1] == ("envVars",):
        return VARIABLE_SECRET_MESSAGE
    if isinstance(value, str) and not url_parses(value):
        return UNPARSED_URL_MESSAGE
    return SECRET_MESSAGE


def _unique_ids(declared: list[_Declared], problems: list[Problem]) -> list[DesiredDefinition]:
    """The valid definitions whose id is declared once; a problem for each repeat, at
    most :data:`MAX_PROBLEMS_PER_FILE` a file and a count of the rest."""
    by_id: dict[str, list[_Declared]] = {}
    for item in declared:
        by_id.setdefault(item.id, []).append(item)
    definitions: list[DesiredDefinition] = []
    repeats: dict[str, list[tuple[_Declared, _Declared]]] = {}  # file -> (repeat, first)
    for definition_id, items in by_id.items():
        if len(items) == 1:
            item = items[0]
            if item.valid:
                definitions.append(
                    DesiredDefinition(
                        definition_id, item.body, item.source.display, item.document.line
                    )
                )
            continue
        for item in items[1:]:
            repeats.setdefault(item.source.display, []).append((item, items[0]))
    shown = {
        file: sorted(pairs, key=lambda pair: pair[0].document.index)[:MAX_PROBLEMS_PER_FILE]
        for file, pairs in repeats.items()
    }
    lines = _id_lines([item for pairs in shown.values() for pair in pairs for item in pair])
    for file, pairs in shown.items():
        if len(repeats[file]) > len(pairs):
            summary = (
                f"{len(repeats[file])} ids in this file are declared before; the first "
                f"{len(pairs)} are listed"
            )
            problems.append(Problem(file, 0, "", summary))
        for item, first in pairs:
            place, at = f"{file}:{lines[id(item)]}", f"{first.source.display}:{lines[id(first)]}"
            message = f"duplicate id '{item.id}': declared at {at} and at {place}"
            problems.append(Problem(file, lines[id(item)], "id", message))
    return definitions


def _id_lines(items: list[_Declared]) -> dict[int, int]:
    """The line of each item's id, by ``id(item)``: file by file, each file's source
    map built once and dropped after (all of them at once could cost gigabytes)."""
    by_source: dict[int, list[_Declared]] = {}
    for item in items:
        by_source.setdefault(id(item.source), []).append(item)
    lines = {}
    for group in by_source.values():
        for item in group:
            lines[id(item)] = (
                item.source.map.line_of(item.document.index, ("id",)) or item.document.line
            )
        group[0].source.forget_map()
    return lines


# --- pydantic errors -> short human messages ---------------------------------------------

_EXPECTED = {
    "bool_type": "expected a boolean",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
}
_BOUNDS = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


def _translate(
    error: ErrorDetails, data: dict[str, Any], api: str = "registry"
) -> tuple[PathParts, str]:
    """The user's path and a short message for one pydantic error."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error["input"]
    path = _user_path(data, error["loc"], keep_missing=kind == "missing")
    if kind == "missing":
        return path, "missing required field"
    if kind == "extra_forbidden":
        return path, _unknown_field(error["loc"], api)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _union_tag(kind, ctx, value, path)
    if kind in _EXPECTED:
        message = _EXPECTED[kind]
    elif kind in _BOUNDS:
        message = _BOUNDS[kind].format(**{key: _number(bound) for key, bound in ctx.items()})
    elif kind == "literal_error":
        message = f"expected one of {_one_of(ctx['expected'])}"
    elif kind == "string_too_short":
        return path, "must not be empty"
    elif kind == "too_short":
        return path, f"must have at least {ctx['min_length']} item(s)"
    elif kind == "string_pattern_mismatch":
        pattern = ctx["pattern"]
        message = "expected " + PATTERN_MEANINGS.get(pattern, f"a string matching {pattern}")
    else:  # our own PydanticCustomErrors, whose messages are written for people
        message = error["msg"]
        return path, message[:1].lower() + message[1:]
    return path, _with_value(message, value, path)


def _union_tag(
    kind: str, ctx: dict[str, Any], value: object, path: PathParts
) -> tuple[PathParts, str]:
    if not isinstance(value, dict):
        return path, _with_value("expected a mapping", value, path)
    discriminator = str(ctx["discriminator"])
    if discriminator == f"{health_check_form.__name__}()":
        if kind == "union_tag_not_found":
            return path, (
                "missing required field 'mode' (one of 'off', 'preflight', 'periodic'); "
                "or give 'url' and 'method'"
            )
        key = "mode"
        # 'url-form' is the tag of the {url, method} form, not a value of mode.
        expected = ", ".join(
            tag for tag in str(ctx.get("expected_tags", "")).split(", ") if tag != "'url-form'"
        )
    else:
        key = discriminator.strip("'")
        expected = str(ctx.get("expected_tags", ""))
    if kind == "union_tag_not_found":
        return (*path, key), "missing required field"
    message = f"expected one of {expected}"
    return (*path, key), _with_value(message, value.get(key), (*path, key))


def _unknown_field(loc: tuple[str | int, ...], api: str = "registry") -> str:
    from registry_sync.schema.definition import allowed_keys  # imported already: it found the error

    key = loc[-1]
    allowed = allowed_keys(loc[:-1], api)
    if loc == ("definition",):
        return (
            "unknown field; this looks like a registry entry as the API returns it: "
            "declare the fields of its definition at the top level"
        )
    home = misplaced_field_home(key, loc[:-1], api) if isinstance(key, str) else None
    if home is not None:
        where = "at the top level" if "." not in home else f"under '{home.rpartition('.')[0]}'"
        return f"unknown field here; it belongs {where}: did you mean {home}?"
    close = suggester(allowed).suggest(key) if isinstance(key, str) else None
    if close:
        return f"unknown field; did you mean '{close}'?"
    if allowed and len(allowed) <= 8:
        return f"unknown field; expected one of {', '.join(repr(k) for k in allowed)}"
    return "unknown field"


def _one_of(expected: str) -> str:
    # pydantic writes "'a', 'b' or 'c'"; the list reads better without the "or".
    head, _, last = expected.rpartition(" or ")
    return f"{head}, {last}" if head else expected


def _user_path(
    data: dict[str, Any], loc: tuple[str | int, ...], *, keep_missing: bool
) -> PathParts:
    """Map a pydantic location onto the user's data.

    pydantic puts union tags (``'api-key'``) and markers (``'[key]'``) in ``loc``;
    only the parts that are keys or indexes of the data are the user's path. The last
    part of a ``missing`` error names the absent field, so it stays.
    """
    path: list[str | int] = []
    node: Any = data
    for position, part in enumerate(loc):
        if _has(node, part):
            node = node[part]
            path.append(part)
        elif keep_missing and position == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _has(node: object, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _is_sensitive(path: PathParts) -> bool:
    return bool(path) and (
        path[0] in ("auth", "baseUrl")
        or path[:2] == ("healthCheck", "url")
        or any(is_credential_name(part) for part in path)
    )


def _with_value(message: str, value: object, path: PathParts) -> str:
    if _is_sensitive(path) or (isinstance(value, str) and has_credential_shape(value)):
        return message
    return f"{message}, got {_describe(value)}"


def _number(value: object) -> object:
    # A float field's bounds are floats: show 1, not 1.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 3] + "..."
        return "'" + repr(text)[1:-1] + "'"  # repr escapes newlines and control characters
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
