"""``registry-sync schema``: the JSON Schema of a model file."""

from __future__ import annotations

import json

import click

from registry_sync.cli.output import Output

__all__ = ["run_schema", "schema"]


@click.command()
def schema() -> None:
    """Print the JSON Schema of a model file, for editors (yaml-language-server).

    Generated from the same models validate uses. No network access.
    """
    run_schema(Output())


def run_schema(output: Output) -> int:
    """Print the schema; returns the exit code."""
    from registry_sync.operations.schema import model_file_schema

    output.out(json.dumps(model_file_schema(), indent=2, ensure_ascii=False))
    return 0
