"""Live entries -> models/ files: what ``registry-sync export`` writes, and where.

:func:`plan_export` is pure: it turns live entries into :class:`ExportFile` values
(a relative path and the YAML text) and reports every secret it left out.
:func:`write_export` is the only function here that touches the disk.

The files are meant to load back as the definitions the registry holds, so that
``plan`` over them reports no changes: keys keep their values and types, server-owned
fields are dropped, and nothing is written that a person would misread or that a
YAML reader would read as another type. Secrets are the one exception: they are
never written, and :attr:`ExportFile.secrets` says what was left out instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import textwrap
import types
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel

from registry_sync.errors import ConfigError, ExportError
from registry_sync.live.entries import LiveEntry
from registry_sync.schema.definition import definition_model
from registry_sync.schema.fields import unknown_fields
from registry_sync.schema.generations import DEFAULT_API
from registry_sync.schema.secrets import (
    PLACEHOLDER_ENV_VAR,
    is_credential_parameter,
    redact,
    secret_paths,
)
from registry_sync.schema.server import SERVER_OWNED_FIELDS
from registry_sync.schema.suggest import Suggester
from registry_sync.schema.values import deep_copy, format_path
from registry_sync.settings.defaults import READ_ONLY_DIR
from registry_sync.yamlio.emit import MISREAD_ELSEWHERE, fits_libyaml, indent_sequences
from registry_sync.yamlio.files import Unreadable, display_path, read_model_file, walk_model_files

__all__ = [
    "PLACEHOLDER_ENV_VAR",
    "READ_ONLY_DIR",
    "Export",
    "ExportFile",
    "SecretLeftOut",
    "assign_paths",
    "in_definition_order",
    "plan_export",
    "printable",
    "render_definition",
    "write_export",
]

# Immutable entries go below this folder of the output folder. The loader reads
# every folder, so a later plan checks them (read-only, in sync) like any file.

READ_ONLY_HEADER = (
    "# Read-only: this model is defined in the registry server's own configuration",
    "# (immutable). It cannot be changed or removed through the API; plan only checks",
    "# that this file still matches the server. Edit it only to follow a server change.",
)
# The catalog's read-only definitions that export writes: byo ones of yaml origin.
CATALOG_READ_ONLY_HEADER = (
    "# Read-only: this definition has origin yaml: it is defined in the registry server's",
    "# own configuration files. It cannot be changed or removed through the API; plan only",
    "# checks that this file still matches the server. Edit it only to follow a server change.",
)
_PLACEHOLDER_COMMENT = "# TODO: name the environment variable that holds this secret"

# --- paths ----------------------------------------------------------------------------

# Unsafe in a file name on Windows, plus the path separators everywhere; control
# characters (and DEL) break shells and terminals too.
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{device}{n}" for device in ("com", "lpt") for n in "0123456789¹²³"]
)
# Room for a "-<hash>" suffix and ".yaml" within the usual 255-byte name limit.
_MAX_COMPONENT_BYTES = 200
_HASH_LENGTH = 8
_SUFFIX = ".yaml"


def _safe_component(text: str) -> str:
    """``text`` as one file or folder name that every common file system accepts."""
    name = _UNSAFE_CHARACTERS.sub("_", text)
    # A leading dot hides the file on Unix; a reader would not see it was exported.
    if name.startswith("."):
        name = "_" + name[1:]
    # Windows drops trailing dots and spaces, so "a." and "a" would be the same file.
    stripped = name.rstrip(". ")
    name = stripped + "_" * (len(name) - len(stripped))
    if not name:
        return "_"
    stem, dot, rest = name.partition(".")
    # "nul.yaml" and "NUL.x.yaml" are devices on Windows, whatever follows the dot.
    if stem.rstrip(" ").casefold() in _WINDOWS_RESERVED:
        name = f"{stem}_{dot}{rest}"
    if len(name.encode()) > _MAX_COMPONENT_BYTES:
        while len(name.encode()) > _MAX_COMPONENT_BYTES - _HASH_LENGTH - 1:
            name = name[:-1]
        name = f"{name.rstrip('. ')}-{_digest(text)[:_HASH_LENGTH]}"
    return name


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _candidate_path(entry_id: str, read_only: bool) -> tuple[PurePosixPath, bool]:
    """The path an id maps to before collisions, and whether any character changed."""
    namespace, colon, name = entry_id.partition(":")
    if not colon:
        namespace, name = "", entry_id
    parts: list[str] = [READ_ONLY_DIR] if read_only else []
    changed = False
    if colon:
        folder = _safe_component(namespace)
        # A namespace named like the read-only folder would put database entries in it.
        if not read_only and folder.casefold() == READ_ONLY_DIR:
            folder += "_"
        changed = folder != namespace
        parts.append(folder)
    stem = _safe_component(name)
    changed = changed or stem != name
    parts.append(stem + _SUFFIX)
    return PurePosixPath(*parts), changed


def _collision_key(path: PurePosixPath) -> str:
    # Windows and macOS file systems ignore case, and macOS also unicode normalisation.
    return unicodedata.normalize("NFC", path.as_posix()).casefold()


def assign_paths(ids: Iterable[tuple[str, bool]]) -> dict[str, PurePosixPath]:
    """Relative file paths for ``(id, read_only)`` pairs, one distinct file per id.

    ``namespace:name`` maps to ``namespace/name.yaml``, an id without a colon to
    ``name.yaml``, and read-only entries go below ``_read-only/``. Characters that
    are unsafe in a file name on Windows or Unix become ``_``, and reserved names
    (``CON``, ``NUL``, ``COM1``...) get a ``_``. Paths that would be the same file
    on a case-insensitive file system are told apart deterministically: an id that
    needed no replacement keeps the plain name, then the smallest id; every other
    gets ``-<first hex digits of the id's SHA-256>`` before ``.yaml``.
    """
    candidates = {entry_id: _candidate_path(entry_id, ro) for entry_id, ro in ids}
    groups: dict[str, list[str]] = {}
    for entry_id, (path, _changed) in candidates.items():
        groups.setdefault(_collision_key(path), []).append(entry_id)
    assigned: dict[str, PurePosixPath] = {}
    taken: set[str] = set()
    suffixed: list[str] = []
    for key, members in groups.items():
        members.sort(key=lambda entry_id: (candidates[entry_id][1], entry_id))
        assigned[members[0]] = candidates[members[0]][0]
        taken.add(key)
        suffixed.extend(members[1:])
    for entry_id in sorted(suffixed):
        plain = candidates[entry_id][0]
        digest = _digest(entry_id)
        length = _HASH_LENGTH
        while True:
            # Another id's plain name may be this very name: lengthen the tag until
            # free, past the digest's end with a counter, so the loop always ends.
            tag = digest[:length] if length <= len(digest) else f"{digest}-{length}"
            path = plain.with_name(f"{plain.stem}-{tag}{_SUFFIX}")
            if _collision_key(path) not in taken:
                break
            length += 1
        assigned[entry_id] = path
        taken.add(_collision_key(path))
    return assigned


# --- secrets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretLeftOut:
    """A secret found in a live definition and not written: where, and what to do."""

    field: str  # dotted path, e.g. auth.strategies[1].value
    fix: str  # what the file holds instead, and what to do; never the secret


def _without_secrets(definition: dict[str, Any]) -> tuple[dict[str, Any], list[SecretLeftOut]]:
    """A copy of ``definition`` holding no secret, and what was left out."""
    clean: dict[str, Any] = deep_copy(definition)
    left_out: list[SecretLeftOut] = []
    # Collected first: the edits below change the containers secret_paths walks.
    for path in list(secret_paths(definition)):
        container = _at(clean, path[:-1])
        value = container[path[-1]]
        if isinstance(value, str) and _HAS_SCHEME.match(value):  # baseUrl, healthCheck.url, ...
            cleaned = _without_credentials(value)
            if cleaned is None:
                _remove(container, path[-1])
                left_out.append(SecretLeftOut(format_path(path), _UNPARSED_URL_FIX))
            else:
                container[path[-1]] = cleaned
                left_out.append(_url_left_out(format_path(path)))
        elif path[-1] == "value" and _is_auth(path[:-1]):
            auth = _at(clean, path[:-1])
            del auth["value"]
            env_path = format_path((*path[:-1], "envVar"))
            if "envVar" in auth:
                fix = f"{env_path} is kept"
            else:
                auth["envVar"] = PLACEHOLDER_ENV_VAR
                fix = (
                    f"{env_path}: {PLACEHOLDER_ENV_VAR} stands in for it; replace that "
                    "with the environment variable the server reads the key from"
                )
            left_out.append(SecretLeftOut(format_path(path), fix))
        elif len(path) >= 2 and path[-2] == "headers" and _is_auth(path[:-2]):
            auth = _at(clean, path[:-2])
            name = path[-1]
            del auth["headers"][name]
            env_path = format_path((*path[:-2], "envVars", name))
            env_vars = auth.setdefault("envVars", {})
            if not isinstance(env_vars, dict):  # a malformed envVars: nowhere to point
                fix = "the header is not written"
            elif name in env_vars:
                fix = f"{env_path} is kept"
            else:
                env_vars[name] = PLACEHOLDER_ENV_VAR
                fix = (
                    f"{env_path}: {PLACEHOLDER_ENV_VAR} stands in for it; replace that "
                    "with the environment variable the server reads the header from"
                )
            left_out.append(SecretLeftOut(format_path(path), fix))
        else:  # a field whose name says it holds a credential
            _remove(container, path[-1])
            left_out.append(SecretLeftOut(format_path(path), _NAMED_FIX))
    return clean, left_out


_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UNPARSED_URL_FIX = (
    "the URL does not parse, so it may hide a credential and is not written; set it by hand"
)
_NAMED_FIX = (
    "not written: its name says it holds a credential; give the upstream its "
    "credentials through auth.envVar or auth.envVars"
)


def _url_left_out(field: str) -> SecretLeftOut:
    return SecretLeftOut(
        field,
        "the URL is written without its user name, password and credential parameters; "
        "give the upstream its credentials through auth instead",
    )


def _without_credentials(url: str) -> str | None:
    """``url`` without user information or credential parameters; None when it does
    not parse."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return None
    host = parts.netloc.rpartition("@")[2]
    query, fragment = (
        urlencode(
            [
                (k, v)
                for k, v in parse_qsl(part, keep_blank_values=True)
                if not is_credential_parameter(k)
            ]
        )
        if any(is_credential_parameter(k) for k, _ in parse_qsl(part, keep_blank_values=True))
        else part
        for part in (parts.query, parts.fragment)
    )
    return urlunsplit(parts._replace(netloc=host, query=query, fragment=fragment))


def _is_auth(path: Sequence[str | int]) -> bool:
    """True when ``path`` ends at an auth object: ``auth`` or one of its strategies."""
    return bool(path) and path[0] == "auth" and (len(path) == 1 or path[-2] == "strategies")


def _remove(container: Any, key: str | int) -> None:
    if isinstance(container, dict):
        del container[key]
    else:  # an item of a list: keep the positions of the others
        container[key] = PLACEHOLDER_ENV_VAR


def _at(document: dict[str, Any], path: Sequence[str | int]) -> Any:
    target: Any = document
    for key in path:
        target = target[key]
    return target


def printable(text: str) -> str:
    """``text`` safe for a one-line comment or message: no newline, no escape code."""
    return "".join(char if char.isprintable() else "?" for char in text)


# --- key order ----------------------------------------------------------------------------


def _ordered(value: Any, annotation: Any) -> Any:
    """``value`` with the keys of every object in the Definition's order.

    Known keys come in the order the pydantic models declare them (the API
    reference's order), then unknown ones in the order the server sent them. Maps
    of free keys, such as headers, keep the server's order.
    """
    if isinstance(value, dict):
        fields = _fields_for(annotation, value)
        if fields is None:
            item = _item_annotation(annotation, dict)
            return {key: _ordered(child, item) for key, child in value.items()}
        keys = [key for key in fields if key in value]
        keys += [key for key in value if key not in fields]
        return {key: _ordered(value[key], fields.get(key)) for key in keys}
    if isinstance(value, list):
        item = _item_annotation(annotation, list)
        return [_ordered(child, item) for child in value]
    return value


def in_definition_order(definition: Any, api: str = DEFAULT_API) -> Any:
    """``definition`` with its keys (nested ones too) in the order export writes them:
    the order of API generation ``api``'s Definition, unknown keys last."""
    return _ordered(definition, definition_model(api))


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _item_annotation(annotation: Any, container: type) -> Any:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is container:
        return get_args(annotation)[-1]
    return None


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info.annotation for name, info in model.model_fields.items()}


def _fields_for(annotation: Any, value: dict[str, Any]) -> dict[str, Any] | None:
    """The fields (alias -> annotation) of the model ``value`` is an instance of.

    For a union (auth by ``type``, healthCheck by ``mode`` or ``url``) that is the
    member whose literal tags all match ``value`` and which shares most keys with it.
    """
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_fields(annotation)
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    best: tuple[int, int] | None = None
    chosen: dict[str, Any] | None = None
    for member in get_args(annotation):
        model = _unwrap(member)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        fields = _model_fields(model)
        tags = [
            key
            for key, field in fields.items()
            if get_origin(field) is Literal and len(get_args(field)) == 1
        ]
        if any(key in value and value[key] not in get_args(fields[key]) for key in tags):
            continue
        score = (sum(key in value for key in tags), sum(key in fields for key in value))
        if best is None or score > best:
            best, chosen = score, fields
    return chosen


# --- YAML -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, list items indented under their key, never an anchor or alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # PyYAML writes "key:\n- item"; indented items read as the list they are.
        super().increase_indent(flow, False)


_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Line breaks besides "\n" (NEL, the line and paragraph separators, CR) and every other
# character that is not printable: a plain, quoted or block scalar would fold or drop
# them; a double-quoted one escapes each (\N, \L, \P, \r, \x..), and reads back as is.
_ESCAPE_ONLY = re.compile(r"[^\n\x20-\x7e\xa0-\u2027\u202a-\U0010ffff]|[\ud800-\udfff\ufeff]")


def _represent_str(dumper: yaml.representer.SafeRepresenter, value: str) -> yaml.ScalarNode:
    if _ESCAPE_ONLY.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if MISREAD_ELSEWHERE.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if "\n" in value:
        # A literal block when PyYAML can write one; otherwise it falls back to quotes.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)

_LibyamlDumper: type[yaml.CSafeDumper] | None = None
if yaml.__with_libyaml__:

    class _CDumper(yaml.CSafeDumper):
        """libyaml's emitter for the documents it writes as ``_Dumper`` does (yamlemit)."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    _CDumper.add_representer(str, _represent_str)
    _LibyamlDumper = _CDumper


def render_definition(
    definition: dict[str, Any], header: Sequence[str] = (), api: str = DEFAULT_API
) -> str:
    """One definition as a YAML document for people, after the ``header`` comment lines.

    Keys are in the order of API generation ``api``'s Definition, unknown ones last;
    block style; no anchors; strings that some YAML reader would take for a number,
    boolean or null are quoted. Loading the text gives back ``definition``.
    """
    ordered = _ordered(definition, definition_model(api))
    fast = _LibyamlDumper is not None and fits_libyaml(ordered)
    body = yaml.dump(
        ordered,
        Dumper=_LibyamlDumper if fast else _Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,  # never fold a long URL or name over two lines
    )
    if fast:
        body = indent_sequences(body)
    return "".join(f"{line}\n" for line in header) + body


# --- the export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """One file to write: ``path`` is relative to the output folder."""

    id: str
    path: PurePosixPath
    text: str
    read_only: bool
    secrets: tuple[SecretLeftOut, ...] = ()
    unknown_fields: tuple[str, ...] = ()
    definition: dict[str, Any] | None = None  # what loading ``text`` gives back


@dataclass(frozen=True)
class Export:
    """The files of an export, sorted by path, and the read-only entries left out."""

    files: tuple[ExportFile, ...]
    read_only_skipped: int


def plan_export(
    entries: Sequence[LiveEntry],
    *,
    ids: Sequence[str] = (),
    include_read_only: bool = False,
    api: str = DEFAULT_API,
) -> Export:
    """The files that export ``entries``: every mutable one, or those named in ``ids``.

    Immutable entries are exported (below ``_read-only/``) only with
    ``include_read_only``. Raises :class:`ConfigError` naming every id in ``ids``
    that is not in the registry, or that is read-only without ``include_read_only``.
    ``api`` is the generation the entries come from: the fields it knows are
    written, in its Definition's order.
    """
    by_id = {entry.id: entry for entry in entries}
    if ids:
        _check_ids(ids, by_id, include_read_only)
        selected = [by_id[entry_id] for entry_id in dict.fromkeys(ids)]
    else:
        selected = [entry for entry in entries if include_read_only or not entry.immutable]
    paths = assign_paths((entry.id, entry.immutable) for entry in selected)
    files = [_export_file(entry, paths[entry.id], api) for entry in selected]
    files.sort(key=lambda file: file.path.as_posix())
    skipped = 0 if ids or include_read_only else sum(entry.immutable for entry in entries)
    return Export(files=tuple(files), read_only_skipped=skipped)


def _check_ids(ids: Sequence[str], by_id: dict[str, LiveEntry], include_read_only: bool) -> None:
    problems: list[str] = []
    known = Suggester(by_id)
    for entry_id in dict.fromkeys(ids):
        entry = by_id.get(entry_id)
        if entry is None:
            message = f"no registry entry {printable(repr(entry_id))}"
            close = known.suggest(entry_id)
            if close:
                message += f" (did you mean {printable(repr(close))}?)"
            problems.append(message)
        elif entry.immutable and not include_read_only:
            problems.append(
                f"{printable(repr(entry_id))} is read-only (immutable); "
                "add --include-read-only to export it"
            )
    if problems:
        raise ConfigError("export failed: " + "; ".join(problems))


def _export_file(entry: LiveEntry, path: PurePosixPath, api: str) -> ExportFile:
    # A field this version does not know cannot be declared (validate rejects it),
    # and plan does not compare it: leave it out, and say so.
    unknown = tuple(unknown_fields(entry.definition, api))
    definition = {
        key: value
        for key, value in entry.definition.items()
        if key not in SERVER_OWNED_FIELDS and key not in unknown
    }
    clean, left_out = _without_secrets(definition)
    read_only_header = READ_ONLY_HEADER if api == DEFAULT_API else CATALOG_READ_ONLY_HEADER
    header: list[str] = list(read_only_header) if entry.immutable else []
    if unknown:
        if header:
            header.append("#")
        header.append(
            "# Left out, unknown to this version of registry-sync (the registry keeps them): "
            + ", ".join(printable(name) for name in unknown)
        )
        # Their values, for the record: not declarations (validate would refuse them),
        # never compared or sent by an update, carried back by a replace.
        shown = redact({name: entry.definition[name] for name in unknown})
        for name in unknown:
            value = json.dumps(shown[name], ensure_ascii=False, sort_keys=True)
            header.append(f"#   {printable(name)}: {printable(value)}")
    if left_out:
        if header:
            header.append("#")
        header.append("# Secrets found in the registry were left out of this file:")
        for secret in left_out:
            note = f"{printable(secret.field)}: secret left out; {printable(secret.fix)}."
            header.extend(
                textwrap.wrap(
                    note,
                    width=88,
                    initial_indent="#   ",
                    subsequent_indent="#     ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    surrogate = _lone_surrogate(clean, ())
    if surrogate is not None:
        raise ExportError(
            f"export failed: {printable(repr(entry.id))}: {surrogate} holds a lone "
            "surrogate (half of a UTF-16 pair), which no UTF-8 file can hold; nothing was "
            "written. Fix the value in the registry, or export the other entries by --id"
        )
    text = render_definition(clean, header, api)
    if any(PLACEHOLDER_ENV_VAR in secret.fix for secret in left_out):
        text = _mark_placeholders(text)
    loaded = _read_back(text, clean, entry.id)
    return ExportFile(entry.id, path, text, entry.immutable, tuple(left_out), unknown, loaded)


def _lone_surrogate(value: Any, path: tuple[str | int, ...]) -> str | None:
    """Where ``value`` holds a lone surrogate, in a key or a text: the field, printable;
    None when it holds none."""
    if isinstance(value, str):
        return (printable(format_path(path)) or "a value") if _SURROGATE.search(value) else None
    items: Iterable[tuple[str | int, Any]] = ()
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, str) and _SURROGATE.search(key):
                return f"a key of {printable(format_path(path)) or 'the definition'}"
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _lone_surrogate(item, (*path, key))
        if found is not None:
            return found
    return None


def _read_back(text: str, definition: dict[str, Any], entry_id: str) -> dict[str, Any]:
    """What ``text`` loads as, parsed by the reader plan uses; an :class:`ExportError`
    (before any file is written) when that is not ``definition``, value for value and
    type for type."""
    from registry_sync.yamlio.source import parse_documents  # only when exporting

    documents, error = parse_documents(text)
    loaded = documents[0].data if len(documents) == 1 and error is None else None
    if isinstance(loaded, dict) and _same(loaded, definition):
        return loaded
    differ = (
        sorted(
            key for key in {*definition, *loaded} if not _same(loaded.get(key), definition.get(key))
        )
        if isinstance(loaded, dict)
        else ["the whole document"]
    )
    raise ExportError(
        f"export failed: the file for {printable(repr(entry_id))} would read back "
        f"differently ({printable(', '.join(differ))}); nothing was written. This is a bug "
        "in registry-sync: please report it"
    )


def _same(left: Any, right: Any) -> bool:
    """Equal value for value and type for type (1, 1.0 and true are three values)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(v, right[k]) for k, v in left.items())
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _mark_placeholders(text: str) -> str:
    lines = text.splitlines()
    return "".join(
        f"{line}  {_PLACEHOLDER_COMMENT}\n"
        if line.endswith(f": {PLACEHOLDER_ENV_VAR}") and not line.startswith("#")
        else f"{line}\n"
        for line in lines
    )


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_export(
    export: Export,
    out_dir: Path,
    *,
    force: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> list[Path]:
    """Write every file of ``export`` below ``out_dir``; returns the paths written.
    ``on_progress`` hears the files written, in all, and 0 (none fails: a failure
    stops the export).

    Every target is checked before any is written: without ``force`` an existing
    file stops the export and nothing is written. A symbolic link below ``out_dir``
    (a folder on the way, or the file itself) stops it even with ``force``: export
    never writes through or over a link. Raises :class:`ExportError`.
    """
    targets = [(out_dir.joinpath(*file.path.parts), file) for file in export.files]
    links = sorted({link for target, file in targets for link in _links_on_the_way(out_dir, file)})
    if links:
        raise ExportError(
            f"export failed: {_list_paths(links)} "
            f"{'is a symbolic link' if len(links) == 1 else 'are symbolic links'}; export "
            "never writes through or over one, even with --force: remove "
            f"{'it' if len(links) == 1 else 'them'} or export to another --out-dir. "
            "Nothing was written"
        )
    elsewhere = _declared_elsewhere(out_dir, {file.id: target for target, file in targets})
    if elsewhere:
        listed = "; ".join(f"{printable(model_id)} in {where}" for model_id, where in elsewhere)
        raise ExportError(
            f"export failed: {out_dir.as_posix()}/ already declares "
            f"{'an id' if len(elsewhere) == 1 else 'ids'} this export would write again "
            f"({listed}); a second declaration of an id is never written, even with "
            "--force. Export to another --out-dir, leave those ids out (--id names the "
            "ones to export), or remove the old declarations. Nothing was written"
        )
    existing = [target for target, _ in targets if os.path.lexists(target)]
    directories = [target for target in existing if target.is_dir()]
    if directories:
        raise ExportError(
            f"export failed: {_list_paths(directories)} "
            f"{'is a folder' if len(directories) == 1 else 'are folders'}, not a file; "
            "move it away or export to another --out-dir"
        )
    if existing and not force:
        raise ExportError(
            f"export failed: {_list_paths(existing)} already "
            f"{'exists' if len(existing) == 1 else 'exist'}; nothing was written. "
            "Export to an empty --out-dir, or pass --force to overwrite"
        )
    written: list[Path] = []
    for target, file in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL refuses a file that appeared since the check, O_NOFOLLOW a link.
            flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | (os.O_TRUNC if force else os.O_EXCL)
            descriptor = os.open(target, flags, 0o666)
            # LF on every platform.
            with open(descriptor, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(file.text)
        except OSError as exc:
            done = f" ({len(written)} written before it)" if written else ""
            raise ExportError(
                f"export failed: cannot write {target.as_posix()}: {exc.strerror or exc}{done}"
            ) from exc
        written.append(target)
        if on_progress is not None:
            on_progress(len(written), len(targets), 0)
    return written


def _links_on_the_way(out_dir: Path, file: ExportFile) -> list[Path]:
    """The symbolic links among the folders below ``out_dir`` leading to ``file``, and
    the file itself."""
    found: list[Path] = []
    path = out_dir
    for part in file.path.parts:
        path = path / part
        if path.is_symlink():
            found.append(path)
            break
        if not path.exists():
            break
    return found


def _list_paths(paths: Sequence[Path], limit: int = 5) -> str:
    shown = ", ".join(path.as_posix() for path in paths[:limit])
    more = len(paths) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _declared_elsewhere(out_dir: Path, targets: Mapping[str, Path]) -> list[tuple[str, str]]:
    """``(id, file)`` for each id of ``targets`` that a YAML file below ``out_dir``
    other than the one export writes for it already declares: ``--force`` overwrites
    export's own files, never a declaration of the same id elsewhere. Files that do
    not parse declare nothing here (validate says what is wrong with them)."""
    if not out_dir.is_dir():
        return []
    from registry_sync.yamlio.source import parse_documents

    found: list[tuple[str, str]] = []
    files, _ = walk_model_files(out_dir, (".yaml", ".yml"))
    for path in files:
        read = read_model_file(path, out_dir)
        if isinstance(read, Unreadable):
            continue
        try:
            documents, _error = parse_documents(read.decode("utf-8-sig"))
        except UnicodeDecodeError:
            continue
        for document in documents:
            data = document.data
            model_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(model_id, str) or model_id not in targets:
                continue
            if path.resolve() != targets[model_id].resolve():
                found.append((model_id, display_path(path)))
    return sorted(found)
