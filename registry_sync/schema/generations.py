"""The API generations registry-sync speaks, and the schema data of each.

``registry`` is the seed's registry API (SDK ``meetkai-mka1`` 0.6.40); ``catalog`` is the
catalog and activation API (SDK 0.12.128). What each one's Definition is — fields, JSON
types, required and nullable sets, enums — is generated from its SDK by
:mod:`registry_sync.schema.generate` into ``schema/data/<api>.json``, and read here
without pydantic (the warm path needs it). Everything defaults to ``registry``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "APIS",
    "DEFAULT_API",
    "Api",
    "ObjectShape",
    "SchemaData",
    "check_api",
    "data_path",
    "schema_data",
]

Api = Literal["registry", "catalog"]
APIS: tuple[Api, ...] = ("registry", "catalog")
DEFAULT_API: Api = "registry"

_DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class ObjectShape:
    """One object of a Definition: its keys with their JSON types, and the required ones."""

    fields: Mapping[str, str]
    required: frozenset[str]


@dataclass(frozen=True)
class SchemaData:
    """What the SDK of one generation says a Definition is.

    Paths name places in a Definition: ``""`` the Definition itself, ``capabilities``
    an object, ``rateLimits[]`` an item of a list, ``auth<api-key>`` the variant of a
    union tagged ``api-key`` (its tags are the enum ``auth.type``).
    """

    api: Api
    sdk_version: str
    fields: Mapping[str, str]  # top-level key -> JSON type, in the SDK's order
    required_on_add: tuple[str, ...]  # in the SDK's order
    nullable_on_update: tuple[str, ...]
    update_id_in_body: bool
    objects: Mapping[str, ObjectShape]
    enums: Mapping[str, tuple[str, ...]]
    open_enums: Mapping[str, tuple[str, ...]]  # known values; any other string passes

    def enum(self, path: str) -> tuple[str, ...]:
        """The values the API accepts at ``path``; KeyError when it is not an enum."""
        return self.enums[path]


def check_api(api: str) -> Api:
    """``api`` as an :data:`Api`; ValueError naming the known ones otherwise."""
    if api not in APIS:
        raise ValueError(f"unknown API generation {api!r}: expected one of {', '.join(APIS)}")
    return api


def data_path(api: str) -> Path:
    """Where the generated data file of ``api`` lives (inside the package)."""
    return _DATA / f"{check_api(api)}.json"


def schema_data(api: str = DEFAULT_API) -> SchemaData:
    """The schema data of ``api``, read once per process from the package's data file."""
    return _read(check_api(api))


@functools.cache
def _read(api: Api) -> SchemaData:
    raw: dict[str, Any] = json.loads(data_path(api).read_text("utf-8"))
    return SchemaData(
        api=check_api(raw["api"]),
        sdk_version=raw["sdk"]["version"],
        fields=dict(raw["fields"]),
        required_on_add=tuple(raw["required_on_add"]),
        nullable_on_update=tuple(raw["nullable_on_update"]),
        update_id_in_body=bool(raw["update_id_in_body"]),
        objects={
            path: ObjectShape(dict(shape["fields"]), frozenset(shape["required"]))
            for path, shape in raw["objects"].items()
        },
        enums={path: tuple(values) for path, values in raw["enums"].items()},
        open_enums={path: tuple(values) for path, values in raw["open_enums"].items()},
    )
