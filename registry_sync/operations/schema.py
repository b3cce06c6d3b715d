"""``schema``: the JSON Schema of a model file, built from the models validate uses."""

from __future__ import annotations

from typing import Any

from registry_sync.schema.definition import definition_json_schema

__all__ = ["model_file_schema"]


def model_file_schema() -> dict[str, Any]:
    """The JSON Schema editors validate a model file with (yaml-language-server)."""
    return definition_json_schema()
