"""Every command's settings, from one resolver with one precedence rule.

For each setting the first layer that sets it wins::

    1. its flag on the command line (``--models-dir``), else its environment
       variable (``MKA1_API_URL``, ``MKA1_API``), for the settings that have one;
    2. registry-sync.yaml: ``--config FILE``, else the file found from the current
       folder up to the repository root (see :mod:`registry_sync.settings.config`);
    3. the built-in default (:mod:`registry_sync.settings.defaults`).

:func:`resolve_settings` is the one function that applies the rule; it records
where each value came from (:class:`Origin`), which ``registry-sync config`` prints.
:func:`default_text` says the same for ``--help`` (``models_dir from
registry-sync.yaml, else models``). :data:`SETTINGS` lists every setting once.

Environments (``environments:`` in registry-sync.yaml, selected with ``--env
NAME`` or ``MKA1_ENV``, the ``environment`` argument of :func:`resolve_settings`):
the selected entry is one more layer, between 1 and 2, so a flag still beats the
environment entry, which beats the file's top level. A named environment's
registry is its own: ``MKA1_API_URL`` is not read for it (an ``--api-url`` flag
still wins), and its key comes from its ``api_key_env``. ``MKA1_API`` is read for
it (as the rule says: a variable wins over the entry's ``api``). Its overlay, variables and
``owns`` are carried in :class:`Settings` for the loader (:mod:`registry_sync.desired.overlay`),
with the limits on a run's work (``limits:``, top level only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from registry_sync.errors import ConfigError
from registry_sync.schema.generations import APIS
from registry_sync.settings.defaults import (
    API_KEY_VARIABLE,
    API_URL_VARIABLE,
    API_VARIABLE,
    CONFIG_FILE,
    DEFAULT_API_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MODELS_DIR,
    DEFAULT_RETRY_BUDGET,
    DEFAULT_TIMEOUT,
    DEFAULT_TOTAL_BYTES,
    DEFAULT_TOTAL_NODES,
    ON_BEHALF_OF_VARIABLE,
)

if TYPE_CHECKING:
    # Only for types: --help reads this module, and must not pay for the config reader.
    from registry_sync.schema.generations import Api
    from registry_sync.settings.config import Environment, ProjectConfig
    from registry_sync.settings.ignore import IgnoreRule

__all__ = [
    "ACTIVATION_SETTINGS",
    "API_CHOICES",
    "SETTINGS",
    "Given",
    "Origin",
    "Settings",
    "Spec",
    "default_text",
    "resolve_settings",
]

MB = 1024 * 1024

# The values of --api: the API generations (the CLI may not import schema/ itself).
API_CHOICES: tuple[str, ...] = APIS

OriginKind = Literal["flag", "environment variable", "environment", "file", "default"]


@dataclass(frozen=True)
class Origin:
    """Where a value came from: ``kind``, and ``where`` within it (the flag as typed,
    the variable's name, the file's display path; empty for a default)."""

    kind: OriginKind
    where: str = ""

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind == "file":
            return self.where
        return f"{self.kind} {self.where}"


@dataclass(frozen=True)
class Spec:
    """One setting: ``name`` is the attribute of :class:`Settings` (and of
    :class:`~registry_sync.settings.config.ProjectConfig`); ``key`` the registry-sync.yaml key,
    None when the file cannot set it; ``variable`` its environment variable; ``shown``
    the default as people read it."""

    name: str
    key: str | None
    variable: str | None
    default: Any
    shown: str


SETTINGS: tuple[Spec, ...] = (
    Spec("models_dir", "models_dir", None, DEFAULT_MODELS_DIR, DEFAULT_MODELS_DIR.as_posix()),
    Spec("api_url", "api_url", API_URL_VARIABLE, DEFAULT_API_URL, DEFAULT_API_URL),
    # None: the live source detects the API generation (one GET /catalog).
    Spec("api", "api", API_VARIABLE, None, "detected"),
    Spec("on_behalf_of", None, ON_BEHALF_OF_VARIABLE, None, "none"),
    Spec("prune", "prune", None, False, "off"),
    Spec("verify_health", "verify_health", None, False, "off"),
    Spec("max_deletes", "max_deletes", None, None, "no cap"),
    Spec("retry_budget", None, None, DEFAULT_RETRY_BUDGET, str(DEFAULT_RETRY_BUDGET)),
    Spec("timeout", None, None, DEFAULT_TIMEOUT, str(DEFAULT_TIMEOUT)),
    Spec(
        "max_response_mb",
        None,
        None,
        DEFAULT_MAX_RESPONSE_BYTES // MB,
        str(DEFAULT_MAX_RESPONSE_BYTES // MB),
    ),
    Spec("protect", "protect", None, (), "none"),
    Spec("ignore", "ignore_fields", None, (), "none"),
    Spec("server_defaults", "server_defaults", None, {}, "none"),
    Spec("freeze", "freeze", None, (), "none"),
    Spec("deny", "policy", None, frozenset(), "warn for every risk class"),
    Spec("inactive", "activation.inactive", None, (), "none"),
    Spec("activate", "activation.activate", None, (), "none"),
    Spec("switch", "activation.switch", None, (), "none"),
    Spec("total_nodes", "limits.total_nodes", None, DEFAULT_TOTAL_NODES, f"{DEFAULT_TOTAL_NODES}"),
    Spec("total_bytes", "limits.total_bytes", None, DEFAULT_TOTAL_BYTES, f"{DEFAULT_TOTAL_BYTES}"),
)
# The settings that only the catalog API uses.
ACTIVATION_SETTINGS = ("inactive", "activate", "switch")
_SPECS = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True)
class Given:
    """A value set on the command line, and the flag as typed (``--no-prune``)."""

    value: Any
    flag: str


@dataclass(frozen=True)
class Settings:
    """What a command works on. ``origins`` maps every setting's name (and
    ``config_file``) to where its value came from; ``config_file`` is the display path
    of the registry-sync.yaml read, None when there was none."""

    config_file: str | None
    models_dir: Path
    api_url: str
    # The API generation pinned (--api, MKA1_API, api: in registry-sync.yaml), None
    # when nothing pins it: then the live source detects it.
    api: Api | None
    on_behalf_of: str | None
    prune: bool
    verify_health: bool
    max_deletes: int | None
    retry_budget: float
    timeout: float
    max_response_mb: int
    protect: tuple[str, ...]
    ignore: tuple[IgnoreRule, ...]
    server_defaults: Mapping[str, Any]
    freeze: tuple[str, ...]
    deny: frozenset[str]
    # activation: of registry-sync.yaml, for the catalog API: declared id globs kept
    # defined but not active; (name, source) pairs of platform names to activate
    # (source serving or cluster); names that may be taken from another source.
    inactive: tuple[str, ...]
    activate: tuple[tuple[str, str], ...]
    switch: tuple[str, ...]
    # limits: of registry-sync.yaml, the bound on one run's work: the YAML nodes and
    # bytes of all model files together.
    total_nodes: int
    total_bytes: int
    origins: Mapping[str, Origin] = field(default_factory=dict)
    # The environment selected (None without one), and what only it can set: where
    # its key is, its overlay and variables, its own api_url (which an --api-url flag
    # may have replaced in ``api_url``). ``owns`` is the entry's, else the top level's.
    environment: str | None = None
    api_key_env: str = API_KEY_VARIABLE
    overlay: Path | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    owns: tuple[str, ...] = ()
    environment_api_url: str | None = None

    def activation_ignored(self, api: str) -> str | None:
        """Against ``api`` (the generation in effect, pinned or detected): None, or
        the warning to print when registry-sync.yaml sets activation choices that the
        registry API has no use for (it has no activation; they are ignored)."""
        if api != "registry":
            return None
        keys = [
            f"{_SPECS[name].key} ({self.origins[name]})"
            for name in ACTIVATION_SETTINGS
            if getattr(self, name)
        ]
        if not keys:
            return None
        return (
            f"{', '.join(keys)}: ignored against the registry API, which has no "
            "activation (every entry it holds is served); they apply to the catalog API"
        )

    def scope(self) -> ProjectConfig:
        """What the loader needs to build this environment's definitions
        (:func:`registry_sync.desired.overlay.effective_definitions`)."""
        from registry_sync.settings.config import ProjectConfig

        return ProjectConfig(
            file=self.config_file,
            owns=self.owns,
            environment=self.environment,
            overlay=self.overlay,
            vars=self.vars,
            total_nodes=self.total_nodes,
            total_bytes=self.total_bytes,
        )


Layer = Mapping[str, tuple[Any, Origin]]


def resolve_settings(
    flags: Mapping[str, Given] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    environment: str | None = None,
) -> Settings:
    """Resolve every setting by the one rule: flag, else environment variable, else
    registry-sync.yaml, else the default.

    ``flags`` maps setting names to what the command line set (only what it set);
    ``config_file`` is ``--config`` (which must exist), None to look for the file;
    ``environ`` defaults to ``os.environ``. Raises :class:`ConfigError` or
    :class:`InvalidConfig` for a configuration file that is missing or wrong.
    """
    unknown = set(flags or {}) - set(_SPECS)
    if unknown:
        raise ValueError(f"not settings: {', '.join(sorted(unknown))}")
    from registry_sync.settings.config import project_config

    config = project_config(config_file)
    entry = None
    if environment is not None:
        config.select(environment)  # an unknown name is an error, naming the known ones
        entry = config.environments[environment]
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {"config_file": _config_origin(config, config_file)}
    layers = _layers(flags or {}, os.environ if environ is None else environ, config, entry)
    for spec in SETTINGS:
        value, origin = next(layer[spec.name] for layer in layers if spec.name in layer)
        values[spec.name] = value
        origins[spec.name] = origin
    if entry is None:
        return Settings(config_file=config.file, origins=origins, owns=config.owns, **values)
    return Settings(
        config_file=config.file,
        origins=origins,
        environment=entry.name,
        api_key_env=entry.api_key_env,
        overlay=entry.overlay,
        vars=entry.vars,
        owns=entry.rails.get("owns", config.owns),
        environment_api_url=entry.api_url,
        **values,
    )


def _layers(
    flags: Mapping[str, Given],
    environ: Mapping[str, str],
    config: ProjectConfig,
    entry: Environment | None,
) -> list[Layer]:
    """The layers in precedence order, first wins."""
    from_environ = _environ_layer(environ)
    environment: Layer = {}
    if entry is not None:
        # A named environment's registry is its own: MKA1_API_URL never redirects it.
        from_environ = {k: v for k, v in from_environ.items() if k != "api_url"}
        environment = _environment_layer(config, entry)
    return [
        {name: (given.value, Origin("flag", given.flag)) for name, given in flags.items()},
        from_environ,
        environment,
        _file_layer(config),
        {spec.name: (spec.default, Origin("default")) for spec in SETTINGS},
    ]


def _environment_layer(config: ProjectConfig, entry: Environment) -> Layer:
    """What the selected environment's entry sets: its api_url, and each rail it
    names (an empty list it sets is set: it replaces the top level's)."""
    origin = Origin("environment", f"{entry.name} in {config.file or CONFIG_FILE}")
    layer: dict[str, tuple[Any, Origin]] = {"api_url": (entry.api_url, origin)}
    for spec in SETTINGS:
        if spec.name in entry.rails:
            layer[spec.name] = (entry.rails[spec.name], origin)
    return layer


def _environ_layer(environ: Mapping[str, str]) -> Layer:
    # An empty variable counts as unset, as click (and most tools) treat it.
    layer = {
        spec.name: (environ[spec.variable], Origin("environment variable", spec.variable))
        for spec in SETTINGS
        if spec.variable is not None and environ.get(spec.variable)
    }
    if "api" in layer and layer["api"][0] not in APIS:
        # A flag is checked by click, the file by its checker; the variable here.
        raise ConfigError(
            f"{API_VARIABLE}: expected registry or catalog; unset it to detect the API"
        )
    return layer


def _file_layer(config: ProjectConfig) -> Layer:
    """What registry-sync.yaml sets: a key it leaves out (None, or an empty list or
    mapping, as :class:`ProjectConfig` reads it) is not set."""
    origin = Origin("file", config.file or CONFIG_FILE)
    layer: dict[str, tuple[Any, Origin]] = {}
    for spec in SETTINGS:
        if spec.key is None:
            continue
        value = getattr(config, spec.name)
        if value is None or (not isinstance(value, (bool, int)) and not value):
            continue
        layer[spec.name] = (value, origin)
    return layer


def _config_origin(config: ProjectConfig, explicit: Path | None) -> Origin:
    if explicit is not None:
        return Origin("flag", "--config")
    if config.file is None:
        return Origin("default")
    return Origin("file", "found from the current folder up to the repository root")


def default_text(name: str) -> str:
    """The default of setting ``name`` as ``--help`` shows it: where it comes from when
    no flag (or variable) sets it, e.g. ``models_dir from registry-sync.yaml, else models``."""
    spec = _SPECS[name]
    if spec.key is None:
        return spec.shown
    return f"{spec.key} from {CONFIG_FILE}, else {spec.shown}"
