"""Build one API generation's pydantic models from house templates and schema data.

The house templates (:mod:`registry_sync.schema.definition`) say *how* a field is
checked: strict types, bounds and patterns given as advice, friendly messages, the
documentation of each field. The generated schema data
(:mod:`registry_sync.schema.generations`) says *what* the generation's API has: which
fields each object holds, which of them are required, which union forms exist and the
values of every enum. A derived model keeps a template's field when the data has it,
makes it required when the data says so, narrows its enums to the data's values and
drops the union forms the data does not have. A field the data has and no template
knows is still accepted, checked by its JSON type only.
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
from collections.abc import Callable, Collection, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field, Tag, create_model
from pydantic.fields import FieldInfo
from pydantic.functional_validators import AfterValidator
from pydantic_core import PydanticCustomError, PydanticUndefined

from registry_sync.schema.fields import ADVICE_PREFIX
from registry_sync.schema.generations import SchemaData

__all__ = ["CalendarDate", "derive_model"]


def _calendar_date(value: str) -> str:
    # Not advice: the SDK's date type refuses anything else, and only this form
    # serialises back unchanged.
    try:
        valid = len(value) == 10 and bool(datetime.date.fromisoformat(value))
    except ValueError:
        valid = False
    if not valid:
        raise PydanticCustomError(
            "date_format", "should be a date as YYYY-MM-DD, got '{value}'", {"value": value}
        )
    return value


# The JSON type ``string:date`` of the schema data: a calendar date as 2025-01-31.
CalendarDate = Annotated[
    str, AfterValidator(_calendar_date), Field(json_schema_extra={"format": "date"})
]


def _documented(known: tuple[str, ...]) -> Callable[[Any], Any]:
    """Advice for a value of an open enum (``apiFormat``) that the API does not
    document: any string passes, but a near miss of a known value is likely a typo."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in known:
            close = difflib.get_close_matches(value.lower(), known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else "."
            raise PydanticCustomError(
                ADVICE_PREFIX + "undocumented",
                "'{value}' is not a value the API documents ({known}){hint} Other values "
                "are sent as they are",
                {"value": value, "known": ", ".join(known), "hint": hint},
            )
        return value

    return check


def derive_model(
    template: type[BaseModel],
    data: SchemaData,
    *,
    name: str | None = None,
    required: Collection[str],
    house_forms: Collection[str] = (),
    base: type[BaseModel] = BaseModel,
) -> type[BaseModel]:
    """The model of a whole Definition of ``data``'s generation, built from ``template``.

    ``required`` are the top-level keys the model requires (the house may require fewer
    than the API's add does); ``house_forms`` are union tags kept though the API does
    not have them (a form read from live entries, never written); ``base`` is the base
    class of models made for fields no template knows. Each template is derived once,
    so one template is one class of the result (and one ``$defs`` entry of its schema);
    the result is named ``name`` (the template's name by default).
    """
    deriver = _Deriver(data, frozenset(house_forms), base)
    derived: type[BaseModel] = deriver.model(template, "", frozenset(required), name=name)
    # Built once, here, as a whole: with ``defer_build`` in the templates' configuration
    # the objects inside are not built each on its own (a validator apiece, unused).
    # The names stand for the derived classes in forward references (the auth union
    # holds the composite form, which holds the union).
    names = {
        model.__name__: model for model in deriver.built.values() if not isinstance(model, str)
    }
    derived.model_rebuild(force=True, _types_namespace=names)
    return derived


class _Deriver:
    def __init__(self, data: SchemaData, house_forms: frozenset[str], base: type[BaseModel]):
        self.data = data
        self.house_forms = house_forms
        self.base = base
        # template -> derived class, or its name while it is being built (a forward
        # reference: the auth union holds the composite form, which holds the union).
        self.built: dict[type[BaseModel], type[BaseModel] | str] = {}

    def model(
        self,
        template: type[BaseModel],
        path: str,
        required: frozenset[str] | None = None,
        name: str | None = None,
    ) -> Any:
        done = self.built.get(template)
        if done is not None:
            return done
        if path:
            shape = self.data.objects[path]
            keys, required = shape.fields, shape.required
        else:
            keys = self.data.fields
        assert required is not None
        if template.__pydantic_decorators__.model_validators:
            raise TypeError(f"{template.__name__}: a template checks values in annotations")
        self.built[template] = template.__name__
        fields: dict[str, Any] = {}
        known: set[str] = set()
        for attribute, info in template.model_fields.items():
            key = info.alias or attribute
            known.add(key)
            if key in keys:
                where = f"{path}.{key}" if path else key
                fields[attribute] = self.field(info, where, key in required)
        for key, kind in keys.items():
            if key not in known:
                where = f"{path}.{key}" if path else key
                default = ... if key in required else None
                fields["field_" + key] = (self.generic(kind, where), Field(default, alias=key))
        derived = create_model(
            name or template.__name__,
            __base__=template.__base__,
            __doc__=template.__doc__,
            __module__=template.__module__,
            **fields,
        )
        assert isinstance(derived, type) and issubclass(derived, BaseModel)
        self.built[template] = derived
        return derived

    def field(self, info: FieldInfo, path: str, required: bool) -> tuple[Any, Any]:
        annotation = self.annotation(info.annotation, path)
        if info.metadata:
            annotation = _annotated(annotation, info.metadata)
        known = self.data.open_enums.get(path)
        if known is not None:
            annotation = _annotated(annotation, (AfterValidator(_documented(known)),))
        kept = {
            key: getattr(info, key) for key in _FIELD_KEYWORDS if getattr(info, key) is not None
        }
        return annotation, Field(PydanticUndefined if required else None, **kept)

    def annotation(self, annotation: Any, path: str) -> Any:
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin is Annotated:
            return _annotated(self.annotation(args[0], path), annotation.__metadata__)
        if origin is Literal:
            values = self.data.enums.get(path)
            return annotation if values is None else _LITERAL[values]
        if origin is list:
            return _LIST[self.annotation(args[0], path + "[]")]
        if origin is dict:
            return _DICT[args[0], self.annotation(args[1], path + "{}")]
        if origin is Union or origin is types.UnionType:
            return self.union(args, path)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.model(annotation, path)
        return annotation

    def union(self, members: tuple[Any, ...], path: str) -> Any:
        kept = []
        for member in members:
            model = _model_of(member)
            if model is None:
                kept.append(self.annotation(member, path))
                continue
            tag = _tag_of(member)
            if f"{path}<{tag}>" in self.data.objects:
                kept.append(self.annotation(member, f"{path}<{tag}>"))
            elif path in self.data.objects:  # the one object form of a union
                kept.append(self.annotation(member, path))
            elif tag in self.house_forms:
                kept.append(member)
            # else: this generation's API has no such form
        return _UNION[tuple(kept)]

    def generic(self, kind: str, path: str) -> Any:
        """An annotation for a field no template knows, checked by its JSON type only."""
        if "|" in kind:
            return _UNION[tuple(self.generic(part, path) for part in kind.split("|"))]
        if path in self.data.enums:
            return _LITERAL[self.data.enums[path]]
        container = re.fullmatch(r"(array|map)<(.+)>", kind)
        if container and container[1] == "array":
            return _LIST[self.generic(container[2], path + "[]")]
        if container:
            return _DICT[str, self.generic(container[2], path + "{}")]
        if kind == "object" and path in self.data.objects:
            shape = self.data.objects[path]
            fields: dict[str, Any] = {
                "field_" + key: (
                    self.generic(sub, f"{path}.{key}"),
                    Field(... if key in shape.required else None, alias=key),
                )
                for key, sub in shape.fields.items()
            }
            name = "".join(part[:1].upper() + part[1:] for part in re.split(r"\W+", path))
            return create_model(name, __base__=self.base, **fields)
        return _SCALARS[kind]


# Type forms built at run time from values (typed Any: they are not static types).
_ANNOTATED: Any = Annotated
_LITERAL: Any = Literal
_LIST: Any = list
_DICT: Any = dict
_UNION: Any = Union


def _annotated(annotation: Any, metadata: Sequence[Any]) -> Any:
    params = (annotation, *metadata)
    return _ANNOTATED[params]


# What a template's field says besides its type, copied to the derived field.
_FIELD_KEYWORDS = ("description", "json_schema_extra", "discriminator", "examples", "deprecated")

_SCALARS: dict[str, Any] = {
    "string": str,
    "string:date": CalendarDate,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict[str, Any],
    "any": Any,
}


def _model_of(member: Any) -> type[BaseModel] | None:
    while get_origin(member) is Annotated:
        member = get_args(member)[0]
    return member if isinstance(member, type) and issubclass(member, BaseModel) else None


def _tag_of(member: Any) -> object:
    """A union member's tag: its ``Tag``, else the value of its ``type`` or ``mode``."""
    if get_origin(member) is Annotated:
        for meta in member.__metadata__:
            if isinstance(meta, Tag):
                return meta.tag
    model = _model_of(member)
    if model is not None:
        for key in ("type", "mode"):
            info = model.model_fields.get(key)
            if info is not None and get_origin(info.annotation) is Literal:
                return get_args(info.annotation)[0]
    return None
