"""registry_sync.schema.fields states, without pydantic, what the definition models say."""

from __future__ import annotations

from registry_sync.schema import definition, fields


def test_the_written_out_fields_are_the_models_fields() -> None:
    assert definition.allowed_keys(()) == fields.DEFINITION_FIELDS


def test_every_field_of_the_schema_data_has_a_home() -> None:
    from registry_sync.schema.generations import APIS, schema_data

    for api in APIS:
        homes = fields.field_homes(api)
        data = schema_data(api)
        names = set(data.fields) | {
            name for shape in data.objects.values() for name in shape.fields
        }
        assert set(homes) == names, api
        assert all(homes[name] for name in names)
    # The catalog's own fields are found in it, not in the registry API.
    assert fields.field_homes("catalog")["tpm"] == ("rateLimits[].tpm",)
    assert "tpm" not in fields.field_homes("registry")


def test_a_misplaced_field_is_sent_to_its_shallowest_home() -> None:
    assert fields.misplaced_field_home("envVar", ()) == "auth.envVar"
    assert fields.misplaced_field_home("input", ("capabilities",)) == (
        "capabilities.modalities.input"
    )
    assert fields.misplaced_field_home("maxWaitMs", ()) == "concurrency.maxWaitMs"
    # It belongs here in another form of the union (auth of type api-key): no move.
    assert fields.misplaced_field_home("envVar", ("auth", "none")) is None
    assert fields.misplaced_field_home("noSuchField", ()) is None
