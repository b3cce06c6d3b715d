"""registry-sync: keep an MKA1 model registry in git.

The public API, for tools that embed registry-sync rather than run its CLI. Data
flows one way: models/ -> loader -> desired; registry -> client -> live; both ->
planner -> Plan -> policy (judge: risk, violations) -> renderers, or -> applier ->
client -> registry.
"""

from registry_sync._version import __version__
from registry_sync.applier import ApplyResult, EntryResult, Outcome, apply_plan
from registry_sync.client import HealthResult, RegistryClient, RetryPolicy
from registry_sync.definition import Definition, definition_json_schema
from registry_sync.errors import (
    ApiError,
    ApplyRefused,
    ConfigError,
    ExportError,
    InvalidConfig,
    InvalidModels,
    PlanFileError,
    RegistryError,
    RegistrySyncError,
    ResponseShapeError,
    TransportError,
)
from registry_sync.export import Export, ExportFile, plan_export, write_export
from registry_sync.live import LiveEntry, parse_list_response
from registry_sync.loader import (
    DesiredDefinition,
    LoadResult,
    check_reroute_graph,
    check_reroute_targets,
    load_models,
)
from registry_sync.plan import Action, Change, ChangeKind, FieldChange, Plan, Risk, Violation
from registry_sync.planfile import read_plan
from registry_sync.planner import IgnoreRule, PlanOptions, build_plan
from registry_sync.policy import Rules, SafetyRails, judge
from registry_sync.problems import Problem
from registry_sync.render.json import plan_document, render_json
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text

__all__ = [
    "Action",
    "ApiError",
    "ApplyRefused",
    "ApplyResult",
    "Change",
    "ChangeKind",
    "ConfigError",
    "Definition",
    "DesiredDefinition",
    "EntryResult",
    "Export",
    "ExportError",
    "ExportFile",
    "FieldChange",
    "HealthResult",
    "IgnoreRule",
    "InvalidConfig",
    "InvalidModels",
    "LiveEntry",
    "LoadResult",
    "Outcome",
    "Plan",
    "PlanFileError",
    "PlanOptions",
    "Problem",
    "RegistryClient",
    "RegistryError",
    "RegistrySyncError",
    "ResponseShapeError",
    "RetryPolicy",
    "Risk",
    "Rules",
    "SafetyRails",
    "TransportError",
    "Violation",
    "__version__",
    "apply_plan",
    "build_plan",
    "check_reroute_graph",
    "check_reroute_targets",
    "definition_json_schema",
    "judge",
    "load_models",
    "parse_list_response",
    "plan_document",
    "plan_export",
    "read_plan",
    "render_json",
    "render_markdown",
    "render_text",
    "write_export",
]
