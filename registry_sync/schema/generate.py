"""Write the schema data of one API generation from the installed official SDK.

``python -m registry_sync.schema.generate --api registry`` (with ``meetkai-mka1==0.6.40``
installed) or ``--api catalog`` (with ``meetkai-mka1==0.12.128``, in an environment of its
own: both versions are imported as ``meetkai_mka1``) rewrites
``registry_sync/schema/data/<api>.json``; ``--check`` only compares and exits 1 when the
file and the SDK disagree. The SDK is a test dependency, never a runtime one: only this
module imports it, and nothing in the package imports this module.

The data says what the SDK's request models say, no more: the Definition's top-level
fields and their JSON types, each nested object's fields and required keys, the fields
required on add and nullable on update, and every enum. Paths name places in a
Definition: ``rateLimits[]`` is an item of a list, ``auth<api-key>`` the variant of a
union whose tag is ``api-key`` (the tags themselves are the enum ``auth.type``), and
``embeddingLimits.dimensions`` the object member of a union with a plain value.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
import types
import typing
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from registry_sync.schema.generations import APIS, data_path

__all__ = ["check", "main", "schema_data"]

SDK_DISTRIBUTION = "meetkai-mka1"

# The request models of each generation, in meetkai_mka1.models.
REQUESTS = {
    "registry": ("AddRegistryModelRequest", "UpdateRegistryModelRequest"),
    "catalog": ("AddCatalogModelRequest", "UpdateCatalogModelRequest"),
}

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    datetime.date: "string:date",
}


class _Walk:
    """What one request model says, gathered path by path."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.enums: dict[str, list[str]] = {}
        self.open_enums: dict[str, list[str]] = {}

    def model(self, path: str, model: type[BaseModel]) -> None:
        fields: dict[str, str] = {}
        required: list[str] = []
        for name, info in model.model_fields.items():
            key = info.alias or name
            where = f"{path}.{key}" if path else key
            fields[key] = self.value(where, info.annotation, _discriminator(info))
            if info.is_required() or _constant(info.annotation) is not None:
                required.append(key)
        self.objects[path] = {"fields": fields, "required": required}

    def value(self, path: str, annotation: Any, discriminator: str | None = None) -> str:
        """The JSON type of a value at ``path``; records its objects and enums."""
        members, found = _members(annotation)
        discriminator = discriminator or found
        if len(members) > 1:
            return self.union(path, members, discriminator)
        (annotation,) = members
        origin = get_origin(annotation)
        if origin is Literal:
            self.enums[path] = [str(value) for value in get_args(annotation)]
            return "string"
        if origin in (list, Sequence):
            return "array<" + self.value(path + "[]", get_args(annotation)[0]) + ">"
        if origin is dict:
            return "map<" + self.value(path + "{}", get_args(annotation)[1]) + ">"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.model(path, annotation)
            return "object"
        if annotation is Any:
            return "any"
        if annotation in _SCALARS:
            return _SCALARS[annotation]
        if isinstance(annotation, type) and annotation.__name__ == "UnrecognizedStr":
            return "string"
        raise TypeError(f"{path}: no JSON type for {annotation!r}")

    def union(self, path: str, members: list[Any], discriminator: str | None) -> str:
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        literals = [m for m in members if get_origin(m) is Literal]
        if discriminator is not None and len(models) == len(members):
            tags = []
            for model in models:
                tag = _constant(model.model_fields[discriminator].annotation)
                assert tag is not None, f"{path}: {model.__name__} has no {discriminator}"
                tags.append(tag)
                self.model(f"{path}<{tag}>", model)
                # A variant's own tag is a one-value enum: the union's enum says it.
                del self.enums[f"{path}<{tag}>.{discriminator}"]
            self.enums[f"{path}.{discriminator}"] = tags
            return "object"
        if len(literals) == 1 and len(members) == 2:
            # An open enum: the known values, or any other string (speakeasy's
            # UnrecognizedStr).
            self.open_enums[path] = [str(value) for value in get_args(literals[0])]
            return "string"
        if len(models) > 1:
            raise TypeError(f"{path}: a union of objects without a discriminator")
        return "|".join(sorted(self.value(path, member) for member in members))


def _discriminator(info: FieldInfo) -> str | None:
    found = info.discriminator
    return found if isinstance(found, str) else None


def _unwrap(annotation: Any) -> tuple[Any, str | None]:
    """``annotation`` without Annotated and type aliases; a discriminator found on the way."""
    discriminator = None
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            for meta in annotation.__metadata__:
                found = getattr(meta, "discriminator", None)
                if isinstance(found, str):
                    discriminator = found
            annotation = annotation.__origin__
        elif _is_alias(annotation):
            annotation = annotation.__value__
        elif _is_alias(origin):
            value = origin.__value__
            annotation = value[get_args(annotation)] if origin.__type_params__ else value
        else:
            return annotation, discriminator


def _is_alias(annotation: Any) -> bool:
    """A ``TypeAliasType`` (typing's on 3.12+, typing_extensions' before)."""
    return type(annotation).__name__ == "TypeAliasType"


def _members(annotation: Any) -> tuple[list[Any], str | None]:
    """The members of a union, flattened, without None and speakeasy's Unset; and the
    discriminator an ``Annotated`` on the way names."""
    annotation, discriminator = _unwrap(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        found: list[Any] = []
        for member in get_args(annotation):
            inner, named = _members(member)
            discriminator = discriminator or named
            found.extend(m for m in inner if m not in found)
        return found, discriminator
    if annotation is type(None) or getattr(annotation, "__name__", "") == "Unset":
        return [], discriminator
    return [annotation], discriminator


def _nullable(annotation: Any) -> bool:
    """An update field the SDK sends as null when asked: ``OptionalNullable[...]``, whose
    union holds speakeasy's ``Unset`` (a plain optional field's does not)."""
    annotation, _ = _unwrap(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_nullable(member) for member in get_args(annotation))
    return getattr(annotation, "__name__", "") == "Unset"


def _constant(annotation: Any) -> str | None:
    """The value of a one-value Literal (a union's tag), else None."""
    members, _ = _members(annotation)
    if len(members) == 1 and get_origin(members[0]) is Literal:
        values = get_args(members[0])
        if len(values) == 1:
            return str(values[0])
    return None


def _request_model(name: str) -> type[BaseModel]:
    models = importlib.import_module("meetkai_mka1.models")
    found = getattr(models, name, None)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        version = metadata.version(SDK_DISTRIBUTION)
        raise SystemExit(
            f"meetkai_mka1.models.{name} not found in {SDK_DISTRIBUTION} {version}: "
            "install the SDK version of this API generation (see docs/contributing.md)"
        )
    return found


def schema_data(api: str) -> dict[str, Any]:
    """The schema data of ``api`` as the installed SDK states it (a JSON-ready dict).

    Raises SystemExit when the installed SDK does not have the generation's request
    models, and TypeError when a field has a shape this walker does not know (so a
    new SDK is never summarised wrongly).
    """
    add_name, update_name = REQUESTS[api]
    add, update = _request_model(add_name), _request_model(update_name)

    walk = _Walk()
    walk.model("", add)
    top = walk.objects.pop("")
    # The update's nested objects are the add's (checked, not assumed).
    check_walk = _Walk()
    check_walk.model("", update)
    check_walk.objects.pop("")
    if (check_walk.objects, check_walk.enums, check_walk.open_enums) != (
        walk.objects,
        walk.enums,
        walk.open_enums,
    ):
        raise TypeError(f"{update_name}'s nested objects differ from {add_name}'s")

    update_fields = {info.alias or name: info for name, info in update.model_fields.items()}
    return {
        "api": api,
        "sdk": {"distribution": SDK_DISTRIBUTION, "version": metadata.version(SDK_DISTRIBUTION)},
        "requests": {"add": add_name, "update": update_name},
        "fields": top["fields"],
        "required_on_add": top["required"],
        "nullable_on_update": [
            key for key, info in update_fields.items() if _nullable(info.annotation)
        ],
        "update_id_in_body": "id" in update_fields,
        "objects": dict(sorted(walk.objects.items())),
        "enums": dict(sorted(walk.enums.items())),
        "open_enums": dict(sorted(walk.open_enums.items())),
    }


def render(data: dict[str, Any]) -> str:
    """The file's text: indented JSON, one trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check(api: str) -> bool:
    """True when the committed data file of ``api`` is what the installed SDK states."""
    path = data_path(api)
    return path.exists() and path.read_text("utf-8") == render(schema_data(api))


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check``, compare) the data file; 0 when it is up to date."""
    parser = argparse.ArgumentParser(
        prog="python -m registry_sync.schema.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--api", choices=APIS, required=True)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    path: Path = data_path(args.api)
    if args.check:
        if check(args.api):
            print(f"{path.name} is up to date")
            return 0
        print(f"{path.name} differs from the installed SDK: regenerate it", file=sys.stderr)
        return 1
    path.write_text(render(schema_data(args.api)), "utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
