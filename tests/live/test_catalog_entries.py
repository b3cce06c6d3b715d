"""The catalog list -> live entries: one per name, shapes checked (fail closed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry_sync.errors import ConfigError, ResponseShapeError
from registry_sync.live.catalog import is_catalog_document, parse_catalog_entry, parse_catalog_list
from registry_sync.live.entries import Activation, LiveHealth
from registry_sync.live.sources import LiveState, read_registry_file
from registry_sync.testing import (
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
)


def definition(name: str = "team:chat", **fields: Any) -> dict[str, Any]:
    return minimal_definition(name, **fields)


def byo(name: str = "team:chat", **options: Any) -> dict[str, Any]:
    return catalog_entry(definition(name), **options)


def serving(name: str = "team:chat", **options: Any) -> dict[str, Any]:
    return catalog_entry(definition(name), source="serving", origin=None, **options)


def test_one_byo_definition_is_one_mutable_entry() -> None:
    [entry] = parse_catalog_list(catalog_list([byo()]), "test")
    assert (entry.id, entry.source, entry.origin, entry.immutable) == (
        "team:chat",
        "byo",
        "api",
        False,
    )
    assert entry.definition == definition()
    assert entry.updated_at == 1_704_153_600_000
    assert entry.activation == Activation("byo", ("byo",))
    assert entry.health == LiveHealth(True, 1_704_153_600_000, None, "available")


# (case, the catalog's items, expected (source, origin, immutable, activation) per name)
GROUPING: list[tuple[str, list[dict[str, Any]], dict[str, tuple[Any, ...]]]] = [
    (
        "byo is primary, active from serving",
        [serving(), byo(active=False, blocker_source="serving")],
        {"team:chat": ("byo", "api", False, Activation("serving", ("serving", "byo")))},
    ),
    (
        "no byo: the active one is primary",
        [serving(active=False, blocker_source="cluster"),
         catalog_entry(definition(), source="cluster", origin=None)],
        {"team:chat": ("cluster", None, True, Activation("cluster", ("serving", "cluster")))},
    ),
    (
        "no byo, none active: the first",
        [serving(active=False), catalog_entry(definition(), source="cluster", origin=None,
                                              active=False)],
        {"team:chat": ("serving", None, True, Activation(None, ("serving", "cluster")))},
    ),
    (
        "blocked by a source not listed",
        [byo(active=False, blocker_source="serving")],
        {"team:chat": ("byo", "api", False, Activation("serving", ("byo",)))},
    ),
    (
        "yaml-origin byo is read-only",
        [byo(origin="yaml")],
        {"team:chat": ("byo", "yaml", True, Activation("byo", ("byo",)))},
    ),
    (
        "byo of no origin stays writable",
        [byo(origin=None, active=False)],
        {"team:chat": ("byo", None, False, Activation(None, ("byo",)))},
    ),
    (
        "names keep the order they first appear in",
        [byo("b:two"), serving("a:one"), byo("a:one", active=False, blocker_source="serving")],
        {
            "b:two": ("byo", "api", False, Activation("byo", ("byo",))),
            "a:one": ("byo", "api", False, Activation("serving", ("serving", "byo"))),
        },
    ),
    (
        "an unknown source and state are kept as sent",
        [catalog_entry(definition(), source="partner", origin=None, active=False)
         | {"activation_state": "pending"}],
        {"team:chat": ("partner", None, True, Activation(None, ("partner",)))},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("items", "expected"), [case[1:] for case in GROUPING], ids=[case[0] for case in GROUPING]
)
def test_definitions_of_a_name_group_into_one_entry(
    items: list[dict[str, Any]], expected: dict[str, tuple[Any, ...]]
) -> None:
    entries = parse_catalog_list(catalog_list(items), "test")
    found = {e.id: (e.source, e.origin, e.immutable, e.activation) for e in entries}
    assert list(found) == list(expected)
    assert found == expected


def test_the_primary_definition_is_cleaned_as_the_registrys() -> None:
    item = byo(active=False)
    item["definition"].update({"source": "byo", "immutable": False, "rpm": None, "x": {"y": 1}})
    del item["definition"]["id"]
    [entry] = parse_catalog_list(catalog_list([serving(), item]), "test")
    assert entry.definition == {**definition(), "x": {"y": 1}}
    assert next(iter(entry.definition)) == "id"


def test_the_primary_health_and_timestamps_are_the_entrys() -> None:
    health = {"status": "unknown", "is_available": True, "last_health_check": None, "error": None}
    items = [
        serving(),
        byo(active=False, health=health, updated_at=None, created_at=None),
    ]
    [entry] = parse_catalog_list(catalog_list(items), "test")
    assert entry.health == LiveHealth(True, None, None, "unknown")
    assert entry.updated_at is None


def test_unknown_keys_are_tolerated() -> None:
    item = byo() | {"new_top_level": [1], "health": byo()["health"] | {"latency_ms": 3}}
    document = catalog_list([item]) | {"schema_version": 2}
    assert parse_catalog_list(document, "test")[0].id == "team:chat"


def test_an_empty_catalog_is_no_entries() -> None:
    assert parse_catalog_list(catalog_list([]), "test") == []
    assert parse_catalog_list(catalog_list([], currency=None), "test") == []


def test_a_single_catalog_entry_knows_only_its_own_source() -> None:
    entry = parse_catalog_entry(byo(active=False, blocker_source="cluster"), "POST x")
    assert entry.activation == Activation("cluster", ("byo",))


def test_activation_takes_part_in_the_fingerprint() -> None:
    [served] = parse_catalog_list(catalog_list([byo()]), "test")
    [idle] = parse_catalog_list(catalog_list([byo(active=False)]), "test")
    assert served.definition == idle.definition
    assert served.fingerprint() != idle.fingerprint()


def without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


# (case, document, where, what)
BAD: list[tuple[str, Any, str, str]] = [
    ("not an object", [], "", "expected a JSON object, got a list"),
    ("object", {"object": "page", "data": []}, "object", "expected 'list'"),
    ("no data", {"object": "list", "currency": "USD"}, "data", "expected a list, got null"),
    ("currency", catalog_list([]) | {"currency": 3}, "currency", "expected a string or null"),
    ("has_more", catalog_list([byo()]) | {"has_more": True}, "has_more", "continues"),
    ("next page", catalog_list([]) | {"next_cursor": "x"}, "next_cursor", "names a next page"),
    ("item", {"object": "list", "currency": "USD", "data": [3]}, "data[0]",
     "expected a JSON object, got a number"),
    ("model_id", catalog_list([byo() | {"model_id": None}]), "data[0].model_id",
     "expected a string, got null"),
    ("empty model_id", catalog_list([byo() | {"model_id": ""}]), "data[0].model_id",
     "expected a string"),
    ("a registry item", list_response([registry_model(definition())]) | {"currency": None},
     "data[0].activation_state", "expected a string, got null"),
    ("source", catalog_list([byo() | {"source": None}]), "data[0].source", "expected a string"),
    ("state", catalog_list([byo() | {"activation_state": 1}]), "data[0].activation_state",
     "expected a string, got a number"),
    ("origin missing", catalog_list([without(byo(), "origin")]), "data[0].origin", "missing"),
    ("origin", catalog_list([byo() | {"origin": True}]), "data[0].origin",
     "expected a string or null, got a boolean"),
    ("blocker", catalog_list([byo() | {"blocker_source": 1}]), "data[0].blocker_source",
     "expected a string or null"),
    ("definition", catalog_list([byo() | {"definition": None}]), "data[0].definition",
     "expected a JSON object, got null"),
    ("definition id", catalog_list([byo() | {"definition": definition("team:other")}]),
     "data[0].definition.id", "'team:other' differs from the entry id 'team:chat'"),
    ("updated_at", catalog_list([byo() | {"updated_at": "2024-01-02"}]), "data[0].updated_at",
     "expected epoch milliseconds or null, got a string"),
    ("created_at", catalog_list([byo() | {"created_at": True}]), "data[0].created_at",
     "expected epoch milliseconds or null, got a boolean"),
    ("no health", catalog_list([without(byo(), "health")]), "data[0].health",
     "expected a JSON object, got null"),
    ("status", catalog_list([byo() | {"health": {"is_available": True}}]),
     "data[0].health.status", "expected a string, got null"),
    ("is_available", catalog_list([byo() | {"health": {"status": "unknown"}}]),
     "data[0].health.is_available", "expected a boolean, got null"),
    ("last check", catalog_list([byo() | {"health": byo()["health"] | {"last_health_check": "x"}}]),
     "data[0].health.last_health_check", "expected epoch milliseconds or null"),
    ("error", catalog_list([byo() | {"health": byo()["health"] | {"error": 5}}]),
     "data[0].health.error", "expected a string or null, got a number"),
    ("repeated pair", catalog_list([serving(), byo(active=False), serving(active=False)]),
     "data[2]", "model_id 'team:chat' from source 'serving' repeats data[0]"),
    ("two active", catalog_list([serving(), byo()]), "data[1].activation_state",
     "active from 'byo' and from 'serving'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "where", "what"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_wrong_shapes_are_errors_naming_the_path(document: Any, where: str, what: str) -> None:
    with pytest.raises(ResponseShapeError) as raised:
        parse_catalog_list(document, "GET /catalog")
    assert raised.value.where == where
    assert what in raised.value.what
    assert raised.value.origin == "GET /catalog"


@pytest.mark.parametrize(
    ("document", "catalog"),
    [
        (catalog_list([]), True),
        (catalog_list([byo()]), True),
        ({"object": "list", "data": [byo()]}, True),
        (list_response([registry_model(definition())]), False),
        (list_response([]), False),
        ({"object": "list", "data": [{"id": "x", "model_id": "y"}]}, False),
        ([], False),
    ],
    ids=["empty", "catalog", "no currency", "registry", "empty registry", "id wins", "list"],
)
def test_a_saved_document_says_its_generation(document: Any, catalog: bool) -> None:
    assert is_catalog_document(document) is catalog


def save(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_saved_catalog_list_works_as_a_registry_file(tmp_path: Path) -> None:
    state = read_registry_file(save(tmp_path, catalog_list([serving(), byo(active=False)])))
    assert state.api == "catalog"
    assert [(e.id, e.activation) for e in state.entries] == [
        ("team:chat", Activation("serving", ("serving", "byo")))
    ]


def test_a_saved_registry_list_is_the_registry_generation(tmp_path: Path) -> None:
    state = read_registry_file(save(tmp_path, list_response([registry_model(definition())])))
    assert state == LiveState("registry", state.entries)
    assert [e.id for e in state.entries] == ["team:chat"]
    assert state.entries[0].activation is None


def test_an_empty_list_reads_as_either_pinned_generation(tmp_path: Path) -> None:
    path = save(tmp_path, list_response([]))
    assert read_registry_file(path) == LiveState("registry", [])
    assert read_registry_file(path, "catalog") == LiveState("catalog", [])


@pytest.mark.parametrize(
    ("document", "pinned"),
    [
        (catalog_list([byo()]), "registry"),
        (list_response([registry_model(definition())]), "catalog"),
    ],
)
def test_a_saved_list_of_the_other_pinned_generation_is_refused(
    tmp_path: Path, document: Any, pinned: Any
) -> None:
    with pytest.raises(ConfigError, match=f"but api: {pinned} is pinned"):
        read_registry_file(save(tmp_path, document), pinned)


def test_a_bad_saved_catalog_names_the_file_and_path(tmp_path: Path) -> None:
    path = save(tmp_path, catalog_list([byo() | {"origin": 1}]))
    with pytest.raises(ResponseShapeError) as raised:
        read_registry_file(path)
    assert (raised.value.origin, raised.value.where) == (str(path), "data[0].origin")
