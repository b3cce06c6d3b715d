"""The project configuration file, ``registry-sync.yaml``: defaults and safety rails.

It is found in the current directory or the nearest parent, stopping at the
repository root (the first directory holding ``.git``), so a command run from a
subfolder still honours the repository's ``protect`` list. ``--config FILE`` names
one explicitly. Every key is optional::

    models_dir: models                 # relative to this file
    api_url: https://apigw.mka1.com
    api: catalog                       # registry or catalog; left out: detected (--api)
    prune: true
    verify_health: true                # apply probes what it wrote (--verify-health)
    protect:                           # ids or glob patterns never deleted or replaced
      - meetkai:assistant-chat-v2
      - "prod:*"
    ignore_fields:                     # not diffed, per id pattern
      - id: "meetkai:*"
        fields: [healthCheck, defaultParams.temperature]
    server_defaults:                   # what the server fills in when a file omits it
      hidden: false
      capabilities.supportsTopP: true
    freeze: ["legacy:*"]               # ids or glob patterns never written at all
    max_deletes: 5                     # refuse a plan deleting more (--max-deletes overrides)
    policy:                            # warn (default) or deny, per risk class
      destructive: deny                # --allow destructive lets one run through
      breaking: warn
    owns: ["acme:*"]                   # ids this repository manages (others are never
                                       # listed, never pruned; a file outside it is an error)
    activation:                        # the catalog API: which names are active
      inactive: ["acme:*-preview"]     # declared ids (globs) kept defined but not active
      activate:                        # platform names turned on (not owned: not declared)
        - {name: "meetkai:functionary-medium", source: serving}   # serving or cluster
      switch: ["acme:chat"]            # names that may be taken from another source
    limits:                            # the bound on one run's work, all model files
      total_nodes: 2000000             # together: YAML nodes (a model is about 80)
      total_bytes: 67108864            # and bytes; raise them for a larger registry
    environments:                      # optional: several registries from one models/
      staging:
        api_url: https://staging-gateway.example.com   # required
        api_key_env: MKA1_STAGING_API_KEY              # required: the variable with its key
        overlay: overlays/staging                      # optional, relative to this file
        vars: {region: eu}                             # ${region} in model files
        protect: ["*"]                                 # any rail above may differ here

Flags and environment variables override the file. With an environment selected,
a key its entry sets replaces the top-level one (lists are not merged); keys it
leaves out come from the top level. ``activation``'s three lists are three keys
(``activation.inactive``, ``activation.activate``, ``activation.switch``): an
environment's ``activation: {inactive: [...]}`` replaces the top level's inactive
list and keeps its activate and switch lists. Problems are collected, each at
its file, line and key, as for models/. Values are never repeated in messages: a
file in the wrong place may hold something secret.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_sync.errors import ConfigError, InvalidConfig
from registry_sync.schema.fields import DEFINITION_FIELDS, HTTP_URL_PATTERN
from registry_sync.schema.generations import APIS, Api
from registry_sync.schema.problems import Problem
from registry_sync.schema.suggest import suggester
from registry_sync.schema.values import format_path, json_kind
from registry_sync.settings.defaults import ACTIVATION_SOURCES, CONFIG_FILE, POLICY_RISKS
from registry_sync.settings.ignore import IgnoreRule
from registry_sync.settings.urls import api_url_problem
from registry_sync.yamlio.document import PathParts
from registry_sync.yamlio.files import Unreadable, read_model_file

if TYPE_CHECKING:
    from registry_sync.yamlio.source import SourceMap

__all__ = [
    "CONFIG_FILE",
    "Environment",
    "ProjectConfig",
    "find_config",
    "load_config",
    "parse_config",
    "project_config",
]


_KEYS = (
    "models_dir",
    "api_url",
    "api",
    "prune",
    "verify_health",
    "protect",
    "ignore_fields",
    "server_defaults",
    "freeze",
    "max_deletes",
    "policy",
    "owns",
    "activation",
    "limits",
    "environments",
)
# The rails and defaults an environment's entry may set over the top level.
_RAIL_KEYS = (
    "prune",
    "protect",
    "ignore_fields",
    "server_defaults",
    "freeze",
    "max_deletes",
    "policy",
    "owns",
    "activation",
)
_ENVIRONMENT_KEYS = ("api_url", "api", "api_key_env", "overlay", "vars", *_RAIL_KEYS)
_ENVIRONMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POLICY_VALUES = ("warn", "deny")
_IGNORE_KEYS = ("id", "fields")
# activation: in registry-sync.yaml, and the ProjectConfig field each key sets.
_ACTIVATION_KEYS = ("inactive", "activate", "switch")
_ACTIVATE_KEYS = ("name", "source")
# limits: in registry-sync.yaml; each key is the ProjectConfig field it sets.
_LIMIT_KEYS = ("total_nodes", "total_bytes")
# A registry name as the API takes it (the model_id of POST /registry): one word.
_NAME = re.compile(r"^\S+$")
_GLOB_CHARACTERS = frozenset("*?[")
_HTTP_URL = re.compile(HTTP_URL_PATTERN)


@dataclass(frozen=True)
class ProjectConfig:
    """What the configuration file sets; None (or empty) where it sets nothing.

    ``file`` is the display path of the file read, None when there was none.
    ``models_dir`` is already resolved against the file's folder.
    """

    file: str | None = None
    models_dir: Path | None = None
    api_url: str | None = None
    prune: bool | None = None
    verify_health: bool | None = None
    protect: tuple[str, ...] = ()
    ignore: tuple[IgnoreRule, ...] = ()
    # Dotted field path -> the value a server fills in when a file omits the field.
    server_defaults: Mapping[str, Any] = field(default_factory=dict)
    freeze: tuple[str, ...] = ()
    max_deletes: int | None = None
    deny: frozenset[str] = frozenset()  # risk classes policy: denies
    owns: tuple[str, ...] = ()  # id globs this repository manages; empty: all
    environments: Mapping[str, Environment] = field(default_factory=dict)
    # Set only on the configuration :meth:`select` returns for one environment.
    environment: str | None = None
    api_key_env: str | None = None
    overlay: Path | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    # Added with the catalog generation, last so that positional uses keep working.
    api: Api | None = None  # the API generation pinned; None: detected
    # activation: (the catalog API). Declared id globs kept defined but not active;
    # (name, source) of platform names to activate; names that may be switched
    # from the source holding them.
    inactive: tuple[str, ...] = ()
    activate: tuple[tuple[str, str], ...] = ()
    switch: tuple[str, ...] = ()
    # limits: the bound on one run's work (None: the default of settings.defaults).
    total_nodes: int | None = None
    total_bytes: int | None = None

    def select(self, name: str) -> ProjectConfig:
        """This configuration for the environment ``name``: each key its entry sets
        replaces the top-level one. Raises :class:`ConfigError` for an unknown name."""
        entry = self.environments.get(name)
        if entry is None:
            where = self.file or CONFIG_FILE
            if not self.environments:
                raise ConfigError(
                    f"--env {name}: {where} declares no environments; add an "
                    "'environments:' mapping, or leave --env (and MKA1_ENV) out"
                )
            known = ", ".join(sorted(self.environments))
            raise ConfigError(f"--env {name}: not an environment of {where}; it has: {known}")
        return dataclasses.replace(
            self,
            api_url=entry.api_url,
            environment=name,
            api_key_env=entry.api_key_env,
            overlay=entry.overlay,
            vars=entry.vars,
            **{key: value for key, value in entry.rails.items()},
        )


@dataclass(frozen=True)
class Environment:
    """One entry of ``environments:``: where its registry is, how to read its key,
    its overlay and variables, and the rails it sets (``rails`` holds only the
    :class:`ProjectConfig` fields its entry sets)."""

    name: str
    api_url: str
    api_key_env: str
    line: int
    overlay: Path | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    rails: Mapping[str, Any] = field(default_factory=dict)


def project_config(explicit: Path | None = None) -> ProjectConfig:
    """The configuration in effect: ``explicit`` (which must exist), else the file found
    from the current directory up to the repository root, else an empty one."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(
                f"configuration file {explicit} does not exist; check --config, "
                f"or leave it out to use {CONFIG_FILE} from the repository"
            )
        return load_config(explicit)
    found = find_config(Path.cwd())
    return ProjectConfig() if found is None else load_config(found)


def find_config(start: Path) -> Path | None:
    """``registry-sync.yaml`` in ``start`` or its nearest parent that has one, looking no
    higher than the repository root (the first folder with ``.git``)."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def load_config(path: Path) -> ProjectConfig:
    """Read and check one configuration file; raises :class:`InvalidConfig` with every
    problem, each at its line and key."""
    display = _display(path)
    raw = read_model_file(path, path.parent)  # a regular file of bounded size, or why not
    if isinstance(raw, Unreadable):
        raise ConfigError(f"{display}: {raw.reason}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidConfig(display, [Problem(display, 0, "", "not UTF-8 text")]) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> ProjectConfig:
    """Check ``text`` as the configuration file at ``path`` would be checked (paths in
    it relative to ``path``'s folder), without reading ``path``: what the file would
    say if it held ``text``. Raises :class:`InvalidConfig` as :func:`load_config`."""
    display = _display(path)
    from registry_sync.yamlio.source import SourceMap, parse_documents  # only with a file

    documents, error = parse_documents(text)
    if error is not None:
        raise InvalidConfig(display, [Problem(display, error.line, error.path, error.message)])
    present = [document for document in documents if document.data is not None]
    if not present:
        return ProjectConfig(file=display)
    checker = _Checker(display, SourceMap(text), present[0].index)
    if len(present) > 1:
        checker.problems.append(
            Problem(display, present[1].line, "", "a second YAML document; keep one")
        )
    document = present[0]
    if document.maybe_duplicate_keys:
        for duplicate in checker.source.duplicate_keys(document.index):
            checker.problems.append(
                Problem(
                    display,
                    duplicate.second_line,
                    format_path(duplicate.path),
                    f"duplicate key: first at line {duplicate.first_line}; keep one",
                )
            )
    config = checker.check(document.data, path.parent)
    if checker.problems:
        raise InvalidConfig(display, checker.problems)
    return config


class _Checker:
    """Checks the parsed mapping, collecting problems with their lines."""

    def __init__(
        self,
        display: str,
        source: SourceMap,
        document: int,
        prefix: PathParts = (),
        problems: list[Problem] | None = None,
    ) -> None:
        self.display = display
        self.source = source
        self.document = document
        # Where the mapping being checked sits: () for the top level, or
        # ("environments", NAME) for an environment's entry.
        self.prefix = prefix
        self.problems: list[Problem] = [] if problems is None else problems

    def problem(self, path: PathParts, message: str) -> None:
        path = (*self.prefix, *path)
        line = self.source.line_of(self.document, path)
        self.problems.append(Problem(self.display, line, format_path(path), message))

    def check(self, data: Any, folder: Path) -> ProjectConfig:
        if not isinstance(data, dict):
            self.problem((), f"expected a mapping of settings, got {json_kind(data)}")
            return ProjectConfig(file=self.display)
        for key in data:
            if key not in _KEYS:
                self.problem((str(key),), _unknown_key(str(key), _KEYS))
        models_dir = self._string(data, "models_dir")
        api_url = self._api_url(data)
        api = self._api(data)
        prune = data.get("prune")
        if prune is not None and not isinstance(prune, bool):
            self.problem(("prune",), f"expected true or false, got {json_kind(prune)}")
            prune = None
        verify_health = data.get("verify_health")
        if verify_health is not None and not isinstance(verify_health, bool):
            self.problem(
                ("verify_health",), f"expected true or false, got {json_kind(verify_health)}"
            )
            verify_health = None
        return ProjectConfig(
            file=self.display,
            models_dir=None if models_dir is None else _relative_to(folder, models_dir),
            api_url=api_url,
            api=api,
            prune=prune,
            verify_health=verify_health,
            protect=self._strings(data, ("protect",)),
            ignore=self._ignore_rules(data),
            server_defaults=self._server_defaults(data),
            freeze=self._strings(data, ("freeze",)),
            max_deletes=self._max_deletes(data),
            deny=self._policy(data),
            owns=self._strings(data, ("owns",)),
            **self._activation(data),
            **self._limits(data),
            environments=self._environments(data, folder),
        )

    def _environments(self, data: Mapping[str, Any], folder: Path) -> dict[str, Environment]:
        entries = data.get("environments")
        if entries is None:
            return {}
        if not isinstance(entries, dict) or not entries:
            self.problem(
                ("environments",),
                f"expected a mapping of environment name to settings, got {json_kind(entries)}",
            )
            return {}
        found: dict[str, Environment] = {}
        for name, entry in entries.items():
            path: PathParts = ("environments", str(name))
            if not isinstance(name, str) or not _ENVIRONMENT_NAME.match(name) or name == "all":
                self.problem(
                    path,
                    "expected a lower-case name such as 'staging' (letters, digits, - and _; "
                    "'all' means every environment)",
                )
                continue
            if not isinstance(entry, dict):
                self.problem(path, f"expected a mapping with api_url, got {json_kind(entry)}")
                continue
            checked = _Checker(self.display, self.source, self.document, path, self.problems)
            environment = checked.environment(name, entry, folder)
            if environment is not None:
                found[name] = environment
        return found

    def environment(self, name: str, data: Mapping[str, Any], folder: Path) -> Environment | None:
        """One environment's entry (this checker's prefix is its path)."""
        before = len(self.problems)
        for key in data:
            if key == "limits":
                self.problem((key,), "set at the top level only: one run's files are bounded once")
            elif key not in _ENVIRONMENT_KEYS:
                self.problem((str(key),), _unknown_key(str(key), _ENVIRONMENT_KEYS))
        api_url = self._api_url(data)
        api = self._api(data)
        if "api_url" not in data:
            self.problem((), "missing api_url: an environment names its own registry")
        key_env = self._string(data, "api_key_env")
        if "api_key_env" not in data:
            self.problem(
                (), "missing api_key_env: the environment variable holding this registry's key"
            )
        elif key_env is not None and not _VARIABLE_NAME.match(key_env):
            self.problem(("api_key_env",), "expected an environment variable name")
        overlay = self._string(data, "overlay")
        variables = self._vars(data)
        rails: dict[str, Any] = {}
        if api is not None:
            rails["api"] = api
        if "prune" in data:
            if isinstance(data["prune"], bool):
                rails["prune"] = data["prune"]
            else:
                self.problem(("prune",), f"expected true or false, got {json_kind(data['prune'])}")
        for key in ("protect", "freeze", "owns"):
            if key in data:
                rails[key] = self._strings(data, (key,))
        if "ignore_fields" in data:
            rails["ignore"] = self._ignore_rules(data)
        if "server_defaults" in data:
            rails["server_defaults"] = self._server_defaults(data)
        if "max_deletes" in data:
            rails["max_deletes"] = self._max_deletes(data)
        if "policy" in data:
            rails["deny"] = self._policy(data)
        rails.update(self._activation(data))
        if len(self.problems) > before or api_url is None or key_env is None:
            return None
        return Environment(
            name=name,
            api_url=api_url,
            api_key_env=key_env,
            line=self.source.line_of(self.document, self.prefix),
            overlay=None if overlay is None else _relative_to(folder, overlay),
            vars=variables,
            rails=rails,
        )

    def _vars(self, data: Mapping[str, Any]) -> dict[str, str]:
        variables = data.get("vars")
        if variables is None:
            return {}
        if not isinstance(variables, dict):
            self.problem(
                ("vars",), f"expected a mapping of name to string, got {json_kind(variables)}"
            )
            return {}
        found: dict[str, str] = {}
        for name, value in variables.items():
            if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
                self.problem(("vars", str(name)), "expected a name such as 'region'")
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.problem(("vars", name), f"expected a string, got {json_kind(value)}")
            else:
                found[name] = str(value)
        return found

    def _max_deletes(self, data: Mapping[str, Any]) -> int | None:
        value = data.get("max_deletes")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(("max_deletes",), f"expected a count (0 or more), got {json_kind(value)}")
            return None
        return value

    def _limits(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The ``limits:`` mapping: the keys it sets, as :class:`ProjectConfig` fields."""
        limits = data.get("limits")
        if limits is None:
            return {}
        if not isinstance(limits, dict):
            self.problem(
                ("limits",),
                f"expected a mapping with total_nodes or total_bytes, got {json_kind(limits)}",
            )
            return {}
        found: dict[str, int] = {}
        for key, value in limits.items():
            path: PathParts = ("limits", str(key))
            if key not in _LIMIT_KEYS:
                self.problem(path, _unknown_key(str(key), _LIMIT_KEYS))
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                unit = "YAML nodes" if key == "total_nodes" else "bytes"
                self.problem(
                    path, f"expected a whole number of {unit} (1 or more), got {_count(value)}"
                )
            else:
                found[key] = value
        return found

    def _policy(self, data: Mapping[str, Any]) -> frozenset[str]:
        policy = data.get("policy")
        if policy is None:
            return frozenset()
        if not isinstance(policy, dict):
            self.problem(
                ("policy",),
                f"expected a mapping such as {{destructive: deny}}, got {json_kind(policy)}",
            )
            return frozenset()
        denied = set()
        for key, value in policy.items():
            if key not in POLICY_RISKS:
                self.problem(("policy", str(key)), _unknown_key(str(key), POLICY_RISKS))
            elif value not in _POLICY_VALUES:
                self.problem(("policy", key), "expected warn or deny")
            elif value == "deny":
                denied.add(key)
        return frozenset(denied)

    def _string(self, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem((key,), f"expected a non-empty string, got {json_kind(value)}")
            return None
        return value

    def _api_url(self, data: Mapping[str, Any]) -> str | None:
        url = self._string(data, "api_url")
        if url is None:
            return None
        problem = api_url_problem(url)
        if problem is not None:
            self.problem(("api_url",), problem)
            return None
        return url

    def _api(self, data: Mapping[str, Any]) -> Api | None:
        value = data.get("api")
        if value is None:
            return None
        for api in APIS:  # as an Api, for mypy
            if value == api:
                return api
        hint = ""
        if isinstance(value, str):
            close = suggester(APIS).suggest(value)
            hint = f"; did you mean '{close}'?" if close else ""
        self.problem(
            ("api",),
            f"expected registry or catalog (leave it out to detect the API), "
            f"got {json_kind(value)}{hint}",
        )
        return None

    def _activation(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The ``activation:`` mapping: only the keys it sets, as :class:`ProjectConfig`
        fields (an empty list it sets is set: an environment's replaces the top level's)."""
        activation = data.get("activation")
        if activation is None:
            return {}
        if not isinstance(activation, dict):
            self.problem(
                ("activation",),
                "expected a mapping with inactive, activate or switch, "
                f"got {json_kind(activation)}",
            )
            return {}
        for key in activation:
            if key not in _ACTIVATION_KEYS:
                self.problem(("activation", str(key)), _unknown_key(str(key), _ACTIVATION_KEYS))
        found: dict[str, Any] = {}
        if "inactive" in activation:
            found["inactive"] = self._distinct(activation, ("activation", "inactive"))
        if "activate" in activation:
            found["activate"] = self._activate(activation, found.get("inactive", ()))
        if "switch" in activation:
            found["switch"] = self._names(activation, ("activation", "switch"))
        return found

    def _activate(
        self, activation: Mapping[str, Any], inactive: tuple[str, ...]
    ) -> tuple[tuple[str, str], ...]:
        items = activation["activate"]
        if items is None:
            return ()
        if not isinstance(items, list):
            self.problem(
                ("activation", "activate"),
                f"expected a list of {{name, source}} mappings, got {json_kind(items)}",
            )
            return ()
        found: list[tuple[str, str]] = []
        first: dict[str, int] = {}  # name -> its index, for "listed twice"
        for index, item in enumerate(items):
            path: PathParts = ("activation", "activate", index)
            if not isinstance(item, dict):
                self.problem(
                    path,
                    "expected a mapping such as {name: 'meetkai:chat', source: serving}, "
                    f"got {json_kind(item)}",
                )
                continue
            for key in item:
                if key not in _ACTIVATE_KEYS:
                    self.problem((*path, str(key)), _unknown_key(str(key), _ACTIVATE_KEYS))
            name = None
            if item.get("name") is None:
                self.problem(
                    (*path, "name"),
                    "missing: the registry name to activate (e.g. 'meetkai:functionary-medium')",
                )
            else:
                name = self._name(item["name"], (*path, "name"))
            source = self._source(item, (*path, "source"))
            if name is None:
                continue
            if name in first:
                self.problem(
                    (*path, "name"),
                    f"listed twice (first at line {self._line_of(first[name])}); "
                    "a name is served from one source: keep one",
                )
                continue
            first[name] = index
            if name in inactive:
                self.problem(
                    (*path, "name"),
                    "also in activation.inactive: a name is either kept inactive or activated",
                )
            elif source is not None:
                found.append((name, source))
        return tuple(found)

    def _line_of(self, index: int) -> int:
        path = (*self.prefix, "activation", "activate", index)
        return self.source.line_of(self.document, path)

    def _name(self, value: Any, path: PathParts) -> str | None:
        """``value`` (found at ``path``) as one registry name: no white space, no pattern."""
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"expected a registry name, got {json_kind(value)}")
            return None
        if not _NAME.match(value):
            self.problem(path, "expected a registry name, without white space")
            return None
        if _GLOB_CHARACTERS & set(value):
            self.problem(path, "expected one registry name, not a pattern (* ? [)")
            return None
        return value

    def _source(self, item: Mapping[str, Any], path: PathParts) -> str | None:
        value = item.get("source")
        if value is None:
            self.problem(path, "missing: serving or cluster, the source that serves the name")
        elif value == "byo":
            self.problem(
                path,
                "expected serving or cluster; a byo name is activated by declaring it "
                "in the models folder",
            )
        elif value not in ACTIVATION_SOURCES:
            hint = ""
            if isinstance(value, str):
                close = suggester(ACTIVATION_SOURCES).suggest(value)
                hint = f"; did you mean '{close}'?" if close else ""
            self.problem(path, f"expected serving or cluster, got {json_kind(value)}{hint}")
        else:
            return str(value)
        return None

    def _distinct(self, data: Mapping[str, Any], path: PathParts) -> tuple[str, ...]:
        """:meth:`_strings`, each one once: a second listing is a problem at its line."""
        return self._once(path, self._strings(data, path), data.get(str(path[-1])))

    def _names(self, data: Mapping[str, Any], path: PathParts) -> tuple[str, ...]:
        """A list of registry names (no patterns), each once."""
        items = data.get(str(path[-1]))
        if items is None:
            return ()
        if not isinstance(items, list):
            self.problem(path, f"expected a list of registry names, got {json_kind(items)}")
            return ()
        names = [self._name(item, (*path, index)) for index, item in enumerate(items)]
        return self._once(path, tuple(name for name in names if name is not None), items)

    def _once(self, path: PathParts, values: tuple[str, ...], raw: Any) -> tuple[str, ...]:
        if not values or not isinstance(raw, list):
            return values
        first: dict[str, int] = {}
        for index, item in enumerate(raw):
            if not isinstance(item, str) or item not in values:
                continue
            if item in first:
                line = self.source.line_of(self.document, (*self.prefix, *path, first[item]))
                self.problem((*path, index), f"listed twice (first at line {line}); keep one")
            else:
                first[item] = index
        return tuple(first)

    def _strings(self, data: Mapping[str, Any], path: PathParts) -> tuple[str, ...]:
        value = data.get(str(path[-1]))
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, f"expected a list of strings, got {json_kind(value)}")
            return ()
        found: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                found.append(item)
            else:
                self.problem((*path, index), f"expected a non-empty string, got {json_kind(item)}")
        return tuple(found)

    def _ignore_rules(self, data: Mapping[str, Any]) -> tuple[IgnoreRule, ...]:
        rules = data.get("ignore_fields")
        if rules is None:
            return ()
        if not isinstance(rules, list):
            self.problem(
                ("ignore_fields",),
                f"expected a list of {{id, fields}} mappings, got {json_kind(rules)}",
            )
            return ()
        found: list[IgnoreRule] = []
        for index, rule in enumerate(rules):
            path: PathParts = ("ignore_fields", index)
            if not isinstance(rule, dict):
                self.problem(path, f"expected a mapping with id and fields, got {json_kind(rule)}")
                continue
            for key in rule:
                if key not in _IGNORE_KEYS:
                    self.problem((*path, str(key)), _unknown_key(str(key), _IGNORE_KEYS))
            pattern = rule.get("id")
            if pattern is None:
                self.problem((*path, "id"), "missing: the id or glob pattern (e.g. 'meetkai:*')")
            elif not isinstance(pattern, str) or not pattern.strip():
                self.problem(
                    (*path, "id"), f"expected an id or glob pattern, got {json_kind(pattern)}"
                )
            fields = self._strings(rule, (*path, "fields"))
            if rule.get("fields") is None:
                self.problem((*path, "fields"), "missing: the field paths not to compare")
            elif rule["fields"] == []:
                self.problem((*path, "fields"), "expected at least one field path")
            if isinstance(pattern, str) and pattern.strip() and fields:
                found.append(IgnoreRule(pattern, fields))
        return tuple(found)

    def _server_defaults(self, data: Mapping[str, Any]) -> dict[str, Any]:
        defaults = data.get("server_defaults")
        if defaults is None:
            return {}
        if not isinstance(defaults, dict):
            self.problem(
                ("server_defaults",),
                f"expected a mapping of field path to value, got {json_kind(defaults)}",
            )
            return {}
        found: dict[str, Any] = {}
        for key, value in defaults.items():
            path: PathParts = ("server_defaults", str(key))
            top = str(key).split(".", 1)[0]
            if not isinstance(key, str) or top not in DEFINITION_FIELDS or top == "id":
                if top == "id":
                    hint = "; the id is never a default"
                else:
                    close = suggester(DEFINITION_FIELDS).suggest(top)
                    hint = f"; did you mean '{close}'?" if close else ""
                self.problem(path, f"expected a definition field path such as 'hidden'{hint}")
            elif value is None:
                self.problem(path, "expected the value the server fills in, got null")
            else:
                found[key] = value
        return found


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    if "key" in key.lower() or "token" in key.lower():
        return "unknown key; the API key is read only from MKA1_API_KEY, never from a file"
    close = suggester(allowed).suggest(key)
    if close:
        return f"unknown key; did you mean '{close}'?"
    return "unknown key; expected one of " + ", ".join(repr(name) for name in allowed)


def _count(value: Any) -> str:
    """What a count setting was given, as a message may show it: a number (never a
    secret) as written, anything else by its kind."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json_kind(value)


def _relative_to(folder: Path, value: str) -> Path:
    path = folder / value
    try:
        # Shown in plans and messages: relative reads better when it is short.
        return Path(os.path.relpath(path))
    except ValueError:  # another drive on Windows
        return path.absolute()


def _display(path: Path) -> str:
    # Unlike model files (yamlio.files.display_path), the configuration is often found
    # in a parent folder: ``../registry-sync.yaml`` says where better than a long path.
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return path.as_posix()
