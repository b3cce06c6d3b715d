"""The action's inputs, resolved by one rule: an input given wins; else the
environment variable the CLI reads (``MKA1_API_URL``); else ``registry-sync.yaml``;
else the built-in default. With ``registry-env`` the environment's entry of
``registry-sync.yaml`` sits between the inputs and the file's top level, and
``MKA1_API_URL`` is not read (as ``--env`` in the CLI).

Inputs arrive as strings and an empty string means "not given", which is why every
input of ``action.yml`` defaults to empty: a default there would hide the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from registry_sync.desired.bounds import DEFAULT_LIMITS, LoadLimits
from registry_sync.errors import ConfigError
from registry_sync.settings.config import ProjectConfig
from registry_sync.settings.defaults import (
    API_KEY_VARIABLE,
    API_URL_VARIABLE,
    DEFAULT_API_URL,
    DEFAULT_MODELS_DIR,
)

__all__ = [
    "DEFAULT_ARTIFACT_NAME",
    "MODES",
    "ActionInputs",
    "ActionOptions",
    "resolve_options",
]

MODES = ("auto", "pr", "plan", "drift", "apply")
DEFAULT_ARTIFACT_NAME = "registry-sync-plan"


@dataclass(frozen=True)
class ActionInputs:
    """The inputs as given; ``""`` where not given."""

    models_dir: str = ""
    api_url: str = ""
    mode: str = ""
    prune: str = ""
    artifact_name: str = ""
    apply_environment: str = ""
    allow_pull_request_target: str = ""
    plan_file: Path = Path("plan.json")
    registry_env: str = ""
    comment_author: str = ""
    plan_workflow: str = ""
    require_approval: str = ""
    drift_pull_request: str = ""


@dataclass(frozen=True)
class ActionOptions:
    """The settings the action runs with, every one resolved."""

    models_dir: Path = DEFAULT_MODELS_DIR
    api_url: str = DEFAULT_API_URL
    mode: str = "auto"
    prune: bool = False
    artifact_name: str = ""
    apply_environment: str = ""
    allow_pull_request_target: bool = False
    plan_file: Path = Path("plan.json")
    config_file: str | None = None
    # The environment of registry-sync.yaml (input registry-env): its api_url unless
    # the api-url input is given (then api_url_given; MKA1_API_URL never replaces
    # it), its key variable.
    environment: str | None = None
    api_key_env: str = API_KEY_VARIABLE
    api_url_given: bool = False
    # The login the token writes comments as, where GraphQL's viewer cannot say.
    comment_author: str = ""
    # The workflow file whose runs make reviewed plans (apply checks the run's);
    # empty: the workflow apply runs in.
    plan_workflow: str = ""
    # Apply only pull requests someone other than the author approved.
    require_approval: bool = False
    # In drift mode, also a pull request accepting the drift (registry-sync pull).
    drift_pull_request: bool = False
    # limits: of registry-sync.yaml, the bound on the model files' work.
    limits: LoadLimits = DEFAULT_LIMITS


def resolve_options(
    inputs: ActionInputs, config: ProjectConfig, environ: Mapping[str, str]
) -> ActionOptions:
    """Apply the rule to each setting; raises :class:`ConfigError` for a bad input."""
    mode = inputs.mode or "auto"
    if mode not in MODES:
        raise ConfigError(f"input mode must be one of {', '.join(MODES)}, got {mode!r}")
    models_dir = Path(inputs.models_dir) if inputs.models_dir else config.models_dir
    api_url = inputs.api_url or environ.get(API_URL_VARIABLE) or config.api_url
    environment = inputs.registry_env or None
    if environment is not None:
        config = config.select(environment)
        api_url = inputs.api_url or config.api_url
    prune = _flag("prune", inputs.prune)
    return ActionOptions(
        models_dir=models_dir or DEFAULT_MODELS_DIR,
        api_url=api_url or DEFAULT_API_URL,
        mode=mode,
        prune=(config.prune or False) if prune is None else prune,
        artifact_name=inputs.artifact_name,
        apply_environment=inputs.apply_environment,
        allow_pull_request_target=bool(
            _flag("allow-pull-request-target", inputs.allow_pull_request_target)
        ),
        plan_file=inputs.plan_file,
        config_file=config.file,
        environment=environment,
        api_key_env=config.api_key_env or API_KEY_VARIABLE,
        api_url_given=environment is not None and bool(inputs.api_url),
        comment_author=inputs.comment_author,
        plan_workflow=inputs.plan_workflow,
        require_approval=bool(_flag("require-approval", inputs.require_approval)),
        drift_pull_request=bool(_flag("drift-pull-request", inputs.drift_pull_request)),
        limits=LoadLimits.of(config),
    )


def _flag(name: str, value: str) -> bool | None:
    if value == "":
        return None
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(f"input {name} must be true, false or empty, got {value!r}")
