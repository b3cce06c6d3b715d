"""registry_sync.schema.fields states, without pydantic, what the definition models say."""

from __future__ import annotations

from registry_sync.schema import definition, fields


def test_the_written_out_fields_are_the_models_fields() -> None:
    assert definition.allowed_keys(()) == fields.DEFINITION_FIELDS
