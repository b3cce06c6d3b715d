"""The field reference of docs/model-files.md is the schema data's: every field has its
row, and the page fails the suite when it and the schema disagree."""

from __future__ import annotations

import dataclasses
import re

import pytest
from paths import ROOT

from registry_sync.schema import reference
from registry_sync.schema.generations import APIS, ObjectShape, schema_data

PAGE = ROOT / "docs" / "model-files.md"


def generated() -> str:
    return reference.render_reference([schema_data(api) for api in APIS])


def test_the_page_holds_the_reference_the_schema_data_makes() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert reference.PAGE.resolve() == PAGE.resolve()
    assert reference.with_reference(page, generated()) == page, (
        "docs/model-files.md is not current: run python -m registry_sync.schema.reference"
    )
    assert reference.main(["--check"]) == 0


@pytest.mark.parametrize("api", APIS)
def test_every_field_of_the_data_has_a_row_with_a_meaning(api: str) -> None:
    data = schema_data(api)
    rows = {row.path: row for row in reference.field_rows(data)}
    for name in data.fields:
        assert name in rows
    for tagged, shape in data.objects.items():
        if "strategies[]" in tagged:  # a strategy is an auth object: auth's rows say it
            continue
        parent = re.sub(r"<[^>]+>", "", tagged)  # auth<api-key> -> auth
        for name in shape.fields:
            assert f"{parent}.{name}" in rows, f"{parent}.{name}"
    assert all(row.meaning and row.kind and row.required for row in rows.values())
    assert rows["auth.envVar"].forms == "`type: api-key`"
    assert rows["capabilities.modalities.input"].values == "`text`, `image`, `audio`, `video`"


def test_a_field_added_to_the_schema_without_its_row_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = schema_data("catalog")
    queue = data.objects["rateLimits[].queue"]
    grown = dataclasses.replace(
        data,
        fields={**data.fields, "warmupSeconds": "integer"},
        objects={
            **data.objects,
            "rateLimits[].queue": ObjectShape(
                {**queue.fields, "priority": "integer"}, queue.required
            ),
        },
    )
    with pytest.raises(
        ValueError, match=r"does not explain: rateLimits\[\]\.queue\.priority, warmupSeconds; add"
    ):
        reference.field_rows(grown)
    # Explained but not on the page: the page no longer matches.
    monkeypatch.setitem(reference.MEANINGS, "warmupSeconds", "Seconds to warm up.")
    monkeypatch.setitem(reference.MEANINGS, "rateLimits[].queue.priority", "Queue order.")
    page = PAGE.read_text(encoding="utf-8")
    section = reference.render_reference([schema_data("registry"), grown])
    assert "| `warmupSeconds` | integer | no |  | Seconds to warm up. |" in section
    assert reference.with_reference(page, section) != page


def test_a_page_without_the_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="no section between"):
        reference.with_reference("# Model files\n", generated())
