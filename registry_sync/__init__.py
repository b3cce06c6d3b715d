"""registry-sync: keep an MKA1 model registry in git.

The public API, for tools that embed registry-sync rather than run its CLI. Data
flows one way: models/ -> loader -> desired; registry -> client -> live; both ->
planner -> Plan -> policy (judge: risk, violations) -> renderers, or -> applier ->
client -> registry.
"""

import importlib
import typing

from registry_sync._version import __version__

if typing.TYPE_CHECKING:
    from registry_sync.apply.applier import ApplyResult, EntryResult, Outcome, apply_plan
    from registry_sync.desired.loader import (
        DesiredDefinition,
        LoadResult,
        check_reroute_graph,
        check_reroute_targets,
        load_models,
    )
    from registry_sync.errors import (
        ApiError,
        ApplyRefused,
        ConfigError,
        EditRefused,
        ExportError,
        InvalidConfig,
        InvalidModels,
        PlanFileError,
        RegistryError,
        RegistrySyncError,
        ResponseShapeError,
        TransportError,
    )
    from registry_sync.export.files import Export, ExportFile, plan_export, write_export
    from registry_sync.live.client import HealthResult, RegistryClient
    from registry_sync.live.entries import LiveEntry, parse_list_response
    from registry_sync.live.network import RetryPolicy
    from registry_sync.plan.document import plan_document, render_json
    from registry_sync.plan.model import (
        Action,
        Change,
        ChangeKind,
        FieldChange,
        Plan,
        Risk,
        Violation,
    )
    from registry_sync.plan.planfile import read_plan
    from registry_sync.plan.planner import PlanOptions, build_plan
    from registry_sync.plan.policy import Rules, SafetyRails, judge
    from registry_sync.render.markdown import render_markdown
    from registry_sync.render.text import render_text
    from registry_sync.schema.definition import Definition, definition_json_schema
    from registry_sync.schema.problems import Problem
    from registry_sync.settings.ignore import IgnoreRule

# Each public name and the module it lives in: imported on first use (PEP 562), so
# that the CLI, which needs few of them, starts fast.
_LAZY = {
    "Action": "registry_sync.plan.model",
    "ApiError": "registry_sync.errors",
    "ApplyRefused": "registry_sync.errors",
    "ApplyResult": "registry_sync.apply.applier",
    "Change": "registry_sync.plan.model",
    "ChangeKind": "registry_sync.plan.model",
    "ConfigError": "registry_sync.errors",
    "EditRefused": "registry_sync.errors",
    "Definition": "registry_sync.schema.definition",
    "DesiredDefinition": "registry_sync.desired.loader",
    "EntryResult": "registry_sync.apply.applier",
    "Export": "registry_sync.export.files",
    "ExportError": "registry_sync.errors",
    "ExportFile": "registry_sync.export.files",
    "FieldChange": "registry_sync.plan.model",
    "HealthResult": "registry_sync.live.client",
    "IgnoreRule": "registry_sync.settings.ignore",
    "InvalidConfig": "registry_sync.errors",
    "InvalidModels": "registry_sync.errors",
    "LiveEntry": "registry_sync.live.entries",
    "LoadResult": "registry_sync.desired.loader",
    "Outcome": "registry_sync.apply.applier",
    "Plan": "registry_sync.plan.model",
    "PlanFileError": "registry_sync.errors",
    "PlanOptions": "registry_sync.plan.planner",
    "Problem": "registry_sync.schema.problems",
    "RegistryClient": "registry_sync.live.client",
    "RegistryError": "registry_sync.errors",
    "RegistrySyncError": "registry_sync.errors",
    "ResponseShapeError": "registry_sync.errors",
    "RetryPolicy": "registry_sync.live.network",
    "Risk": "registry_sync.plan.model",
    "Rules": "registry_sync.plan.policy",
    "SafetyRails": "registry_sync.plan.policy",
    "TransportError": "registry_sync.errors",
    "Violation": "registry_sync.plan.model",
    "apply_plan": "registry_sync.apply.applier",
    "build_plan": "registry_sync.plan.planner",
    "check_reroute_graph": "registry_sync.desired.loader",
    "check_reroute_targets": "registry_sync.desired.loader",
    "definition_json_schema": "registry_sync.schema.definition",
    "judge": "registry_sync.plan.policy",
    "load_models": "registry_sync.desired.loader",
    "parse_list_response": "registry_sync.live.entries",
    "plan_document": "registry_sync.plan.document",
    "plan_export": "registry_sync.export.files",
    "read_plan": "registry_sync.plan.planfile",
    "render_json": "registry_sync.plan.document",
    "render_markdown": "registry_sync.render.markdown",
    "render_text": "registry_sync.render.text",
    "write_export": "registry_sync.export.files",
}

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
    "EditRefused",
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


def __getattr__(name: str) -> typing.Any:
    """Import a public name's module on first use, and keep the name."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
