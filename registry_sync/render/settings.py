"""The settings in effect and where each came from (``registry-sync config``): aligned
text for people, a versioned JSON document for tools. Never a secret."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from registry_sync.schema.secrets import SENSITIVE, url_has_credentials
from registry_sync.settings.defaults import POLICY_RISKS
from registry_sync.settings.resolve import SETTINGS, Settings

__all__ = ["FORMAT_VERSION", "SETTINGS_FORMATS", "render_settings", "settings_document"]

FORMAT_VERSION = "1"


def render_settings(settings: Settings) -> str:
    """One line per setting: name, value, where it came from, in aligned columns."""
    origins = settings.origins
    rows = [("config file", settings.config_file or "(none)", str(origins["config_file"]))]
    if settings.environment is not None:
        rows.append(("environment", settings.environment, f"key in {settings.api_key_env}"))
    rows += [
        (_name(spec.name), _text(_value(settings, spec.name), spec.shown), str(origins[spec.name]))
        for spec in SETTINGS
    ]
    name_width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    return "".join(
        f"{name:<{name_width}}  {value:<{value_width}}  {origin}\n" for name, value, origin in rows
    )


def settings_document(settings: Settings) -> dict[str, Any]:
    """The settings as JSON: each with its value, the kind of source (``flag``,
    ``environment variable``, ``file``, ``default``) and the source itself."""
    document: dict[str, Any] = {"format_version": FORMAT_VERSION}
    origin = settings.origins["config_file"]
    document["config_file"] = {"value": settings.config_file, "source": origin.kind}
    if settings.environment is not None:
        document["environment"] = {
            "name": settings.environment,
            "api_key_env": settings.api_key_env,
        }
    document["settings"] = {
        _name(spec.name): {
            "value": _value(settings, spec.name),
            "source": settings.origins[spec.name].kind,
            "from": str(settings.origins[spec.name]),
        }
        for spec in SETTINGS
    }
    return document


def _name(name: str) -> str:
    """A setting's name as registry-sync.yaml spells it, where the file can set it."""
    spec = next(spec for spec in SETTINGS if spec.name == name)
    return spec.key or name


def _value(settings: Settings, name: str) -> Any:
    """A setting's value as JSON: paths as text, lists as lists. Never a secret: a URL
    with credentials in it prints as (sensitive); server_defaults shows field paths
    only, as registry-sync.yaml's own messages never repeat values."""
    value = getattr(settings, name)
    if name == "models_dir":
        return Path(value).as_posix()
    if name == "api_url" and url_has_credentials(value):
        return SENSITIVE
    if name == "ignore":
        return [{"id": rule.pattern, "fields": list(rule.fields)} for rule in value]
    if name == "server_defaults":
        return sorted(value)
    if name == "deny":
        return {risk: "deny" if risk in value else "warn" for risk in POLICY_RISKS}
    if name == "activate":
        return [{"name": item_name, "source": source} for item_name, source in value]
    if isinstance(value, tuple):
        return list(value)
    return value


def _text(value: Any, default: str) -> str:
    """A JSON value as one line of text; nothing set reads as the default's words."""
    if value is None:
        return f"({default})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(value, list):
        if not value:
            return "(none)"
        return ", ".join(_item_text(item) for item in value)
    return str(value)


def _item_text(item: Any) -> str:
    """One item of a listed setting: an ignore_fields rule, an activation, or a string."""
    if isinstance(item, dict) and "fields" in item:
        return f"{item['id']} ({', '.join(item['fields'])})"
    if isinstance(item, dict):
        return f"{item['name']} ({item['source']})"
    return str(item)


SETTINGS_FORMATS: Mapping[str, Callable[[Settings], str]] = {
    "text": render_settings,
    "json": lambda settings: (
        json.dumps(settings_document(settings), indent=2, ensure_ascii=False) + "\n"
    ),
}
"""The settings' formats: ``config --format``."""
