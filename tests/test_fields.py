"""registry_sync.schema.fields states, without pydantic, what the definition models say."""

from __future__ import annotations

from registry_sync.schema import definition, fields


def test_the_written_out_fields_are_the_models_fields() -> None:
    assert definition.allowed_keys(()) == fields.DEFINITION_FIELDS


def test_the_definition_module_re_exports_them() -> None:
    assert definition.DEFINITION_FIELDS is fields.DEFINITION_FIELDS
    assert definition.unknown_fields is fields.unknown_fields
    assert definition.health_check_form is fields.health_check_form
