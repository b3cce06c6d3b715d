"""Pydantic models of a registry model Definition, keyed by the API's camelCase names.

These models are the single statement of what a ``models/`` file may declare: the
loader validates every document with :data:`Definition`, and ``registry-sync schema``
prints :func:`definition_json_schema` for editors (yaml-language-server).

Validation is strict: ``'yes'`` is not a boolean and ``"1"`` is not an integer (an
integer is still a valid number). Unknown keys are errors in a file. The models
refuse null: the loader reads a null in a file as the field left out (with a
warning), as the API does, and null only clears a live field, in an update.

The models accept everything the API's add schema accepts (types, enums, required
fields; no minimums). Rules people want but the API does not have (a positive
``contextWindow``, ``topP`` at most 1, a URL that parses) raise *advice*: a pydantic
error whose type starts with ``advice_`` (:func:`is_advice`), which the loader
reports as a warning and the local server ignores.

The classes below are templates holding every field any API generation has had.
:func:`definition_model` derives one generation's models from them and that
generation's schema data (generated from its SDK, :mod:`registry_sync.schema.generate`):
the data decides which fields exist, which are required and the values of every enum;
the templates decide how a value is checked and what a message says. Everything here
defaults to the registry API; :data:`Definition` is its model.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic.functional_validators import AfterValidator
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from registry_sync.schema.derive import CalendarDate, derive_model
from registry_sync.schema.fields import (
    ADVICE_PREFIX,
    ENV_VAR_PATTERN,
    HTTP_METHOD_PATTERN,
    HTTP_URL_PATTERN,
    OPTIONAL_IN_FILES,
    PATTERN_MEANINGS,
    definition_fields,
    health_check_form,
    is_advice,
    nullable_fields,
    required_on_add,
)
from registry_sync.schema.generations import DEFAULT_API, check_api, schema_data
from registry_sync.schema.ids import id_problem

__all__ = [
    "KNOWN_API_FORMATS",
    "MILLISECONDS_THRESHOLD",
    "ApiKeyAuth",
    "ApiProviderType",
    "Auth",
    "Base64InputTrigger",
    "Capabilities",
    "CompositeAuth",
    "Concurrency",
    "ContextExceededTrigger",
    "CustomHeadersAuth",
    "DefaultParams",
    "Definition",
    "DefinitionTemplate",
    "DimensionRange",
    "EmbeddingLimits",
    "EnvVarName",
    "EpochSeconds",
    "ErrorFallbackTrigger",
    "HealthCheck",
    "HealthCheckOff",
    "HealthCheckPeriodic",
    "HealthCheckPreflight",
    "HealthCheckUrl",
    "HttpUrl",
    "ImageResolution",
    "InputModalityTrigger",
    "Lifecycle",
    "LifecycleStatus",
    "Modalities",
    "Modality",
    "ModelCard",
    "NonEmptyStr",
    "NonNegativeInt",
    "NoneAuth",
    "PositiveInt",
    "ProbeMethod",
    "Queue",
    "RateLimit",
    "RateLimitScope",
    "RegistryId",
    "RerouteRule",
    "Trigger",
    "Weights",
    "allowed_keys",
    "api_problems",
    "definition_json_schema",
    "definition_model",
]

KNOWN_API_FORMATS = ("responses", "completions", "embeddings", "images", "transcriptions", "tts")

# Epoch seconds stay below this until the year 5138; epoch milliseconds passed it in 1973.
MILLISECONDS_THRESHOLD = 100_000_000_000

# The enums of the templates hold every value any generation has had; a generation's
# models narrow them to the values of its schema data.
Modality = Literal["text", "image", "audio", "video"]
ApiProviderType = Literal[
    "groq", "azure", "meetkai", "meetkaiGateway", "fal", "openai", "openrouter"
]  # fmt: skip
RateLimitScope = Literal["global", "org", "user", "apiKey", "externalUser"]
ProbeMethod = Literal["GET", "HEAD"]
Weights = Literal["open", "closed"]
LifecycleStatus = Literal["active", "deprecated", "retired"]


def _advice(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(ADVICE_PREFIX + kind, message, context)


def _at_least(bound: int | float) -> AfterValidator:
    def check(value: Any) -> Any:
        if value < bound:
            shown = int(bound) if float(bound).is_integer() else bound
            raise _advice(
                "bound", "should be at least {bound}, got {value}", bound=shown, value=value
            )
        return value

    return AfterValidator(check)


def _at_most(bound: int | float) -> AfterValidator:
    def check(value: Any) -> Any:
        if value > bound:
            shown = int(bound) if float(bound).is_integer() else bound
            raise _advice(
                "bound", "should be at most {bound}, got {value}", bound=shown, value=value
            )
        return value

    return AfterValidator(check)


def _matching(pattern: str, *, sensitive: bool = False) -> AfterValidator:
    compiled = re.compile(pattern)
    meaning = PATTERN_MEANINGS[pattern]

    def check(value: str) -> str:
        if not compiled.match(value):
            if sensitive:  # may hold a secret: never repeat it
                raise _advice("pattern", "should be " + meaning)
            raise _advice(
                "pattern", "should be {meaning}, got '{value}'", meaning=meaning, value=value
            )
        return value

    return AfterValidator(check)


def _not_empty(value: Any) -> Any:
    if len(value) == 0:
        raise _advice("empty", "should not be empty")
    return value


PositiveInt = Annotated[int, _at_least(1)]
NonNegativeInt = Annotated[int, _at_least(0)]
NonEmptyStr = Annotated[str, AfterValidator(_not_empty)]


def _addressable(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:  # an error, not advice: no request can carry such an id
        raise PydanticCustomError("registry_id", "{problem}", {"problem": problem})
    return value


RegistryId = Annotated[str, AfterValidator(_addressable)]
EnvVarName = Annotated[str, _matching(ENV_VAR_PATTERN, sensitive=True)]
HttpUrl = Annotated[str, _matching(HTTP_URL_PATTERN, sensitive=True)]


def _reject_milliseconds(value: int) -> int:
    if value > MILLISECONDS_THRESHOLD:
        raise _advice(
            "epoch_milliseconds",
            "{value} looks like epoch milliseconds; use epoch seconds ({seconds})",
            value=value,
            seconds=value // 1000,
        )
    return value


EpochSeconds = Annotated[
    int,
    _at_least(0),
    Field(json_schema_extra={"maximum": MILLISECONDS_THRESHOLD}),
    AfterValidator(_reject_milliseconds),
]


def _absent(**field: Any) -> Any:
    """Default of an optional field: left out means "not declared".

    The annotation stays non-nullable so an explicit null fails validation; typed
    ``Any`` so the annotation can say what a present value is.
    """
    return Field(default=None, **field)


class _Object(BaseModel):
    """One JSON object of the Definition: strict, closed, camelCase on the wire."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        allow_inf_nan=False,
        protected_namespaces=(),
        # Titles from the Python names read "Context window", not "Contextwindow".
        field_title_generator=lambda name, _info: name.replace("_", " ").capitalize(),
        # Built only as part of a generation's Definition (derive.py), never on their own.
        defer_build=True,
    )


# --- auth ------------------------------------------------------------------------


class ApiKeyAuth(_Object):
    """The server reads the key from the environment variable that envVar names."""

    type: Literal["api-key"]
    env_var: EnvVarName = _absent(description="Name of the environment variable holding the key.")
    header_name: NonEmptyStr = _absent()
    # Modelled so the loader can reject it by name: a key in a git-reviewed file leaks.
    value: str = _absent(
        description="Inline secret: never set it in models/; use envVar.",
        json_schema_extra={"deprecated": True},
    )


class CustomHeadersAuth(_Object):
    """Fixed headers, plus headers whose values the server reads from the environment."""

    type: Literal["custom-headers"]
    headers: dict[NonEmptyStr, str] = Field(
        description="Non-secret headers; a credential goes in envVars."
    )
    env_vars: dict[NonEmptyStr, EnvVarName] = _absent(
        description="Header name -> environment variable holding its value."
    )


class NoneAuth(_Object):
    """The upstream needs no credentials."""

    type: Literal["none"]


class CompositeAuth(_Object):
    """Several strategies applied together."""

    type: Literal["composite"]
    strategies: Annotated[list[Auth], AfterValidator(_not_empty)]


Auth = Annotated[
    ApiKeyAuth | CustomHeadersAuth | NoneAuth | CompositeAuth,
    Field(discriminator="type"),
]
CompositeAuth.model_rebuild()


# --- capabilities ------------------------------------------------------------------


class Modalities(_Object):
    input: list[Modality]
    output: list[Modality]


class ImageResolution(_Object):
    max_width: PositiveInt
    max_height: PositiveInt


class Capabilities(_Object):
    modalities: Modalities
    reasoning: bool
    supports_temperature: bool = _absent()
    supports_top_p: bool = _absent()
    supported_base64_formats: list[NonEmptyStr] = _absent()
    supports_completion_video_url_message: bool = _absent()
    supports_structured_outputs: bool = _absent()
    supports_image_detail_original: bool = _absent()
    supports_reasoning_effort: bool = _absent()
    max_image_resolution: ImageResolution = _absent()
    min_image_resolution: ImageResolution = _absent()


# --- limits and parameters ------------------------------------------------------------


class Queue(_Object):
    max_depth: PositiveInt
    max_wait_ms: PositiveInt


class RateLimit(_Object):
    scope: RateLimitScope
    rpm: PositiveInt = _absent()
    tpm: PositiveInt = _absent()
    duration: PositiveInt = _absent()
    queue: Queue = _absent()


class Concurrency(_Object):
    max: PositiveInt
    max_wait_ms: NonNegativeInt = _absent()


class DefaultParams(_Object):
    temperature: Annotated[float, _at_least(0)] = _absent()
    top_p: Annotated[float, _at_least(0), _at_most(1)] = _absent()
    presence_penalty: float = _absent()
    frequency_penalty: float = _absent()


# --- reroute rules ---------------------------------------------------------------------


# Every trigger any generation has had; a generation keeps the ones its data has.
class InputModalityTrigger(_Object):
    type: Literal["input-modality"]
    modality: Modality


class Base64InputTrigger(_Object):
    type: Literal["base64-input"]


class ContextExceededTrigger(_Object):
    type: Literal["context-exceeded"]


class ErrorFallbackTrigger(_Object):
    type: Literal["error-fallback"]


Trigger = Annotated[
    InputModalityTrigger | Base64InputTrigger | ContextExceededTrigger | ErrorFallbackTrigger,
    Field(discriminator="type"),
]


class RerouteRule(_Object):
    trigger: Trigger
    target_model_id: RegistryId = Field(description="Id of another registry model.")
    preserve_params: bool = _absent()
    log: bool = _absent()


# --- embeddings ----------------------------------------------------------------------


class DimensionRange(_Object):
    min: PositiveInt
    max: PositiveInt
    default: PositiveInt


def _ordered(value: BaseModel) -> BaseModel:
    # In the annotation, not a model validator: a generation's models are derived from
    # the templates' fields and annotations.
    low, default, high = (getattr(value, key) for key in ("min", "default", "max"))
    if not low <= default <= high:
        raise _advice(
            "dimension_range",
            "expected min <= default <= max, got min {min}, default {default}, max {max}",
            min=low,
            default=default,
            max=high,
        )
    return value


def _dimensions_form(value: Any) -> str:
    return "range" if isinstance(value, dict) else "fixed"


class EmbeddingLimits(_Object):
    max_batch_size: PositiveInt = _absent()
    max_batch_tokens: PositiveInt = _absent()
    # A callable discriminator keeps errors to the one form the user wrote.
    dimensions: Annotated[
        Annotated[PositiveInt, Tag("fixed")]
        | Annotated[DimensionRange, AfterValidator(_ordered), Tag("range")],
        Discriminator(_dimensions_form),
    ] = _absent()


# --- health check ----------------------------------------------------------------------


class HealthCheckOff(_Object):
    mode: Literal["off"]


class HealthCheckPreflight(_Object):
    """Probe path (relative to baseUrl) before routing a request."""

    mode: Literal["preflight"]
    path: NonEmptyStr
    method: ProbeMethod = _absent()
    timeout_ms: PositiveInt = _absent()
    cache_ttl_seconds: NonNegativeInt = _absent()


class HealthCheckPeriodic(_Object):
    """Probe path (relative to baseUrl) every intervalSeconds."""

    mode: Literal["periodic"]
    path: NonEmptyStr
    interval_seconds: PositiveInt
    method: ProbeMethod = _absent()
    timeout_ms: PositiveInt = _absent()
    cache_ttl_seconds: NonNegativeInt = _absent()


class HealthCheckUrl(_Object):
    """The form of the API documentation's example; the SDK does not know it."""

    url: HttpUrl
    method: Annotated[str, _matching(HTTP_METHOD_PATTERN)] = _absent()


HealthCheck = Annotated[
    Annotated[HealthCheckOff, Tag("off")]
    | Annotated[HealthCheckPreflight, Tag("preflight")]
    | Annotated[HealthCheckPeriodic, Tag("periodic")]
    | Annotated[HealthCheckUrl, Tag("url-form")],
    Discriminator(health_check_form),
]


# --- model card and lifecycle (catalog) -------------------------------------------------


class ModelCard(_Object):
    """What people read about the model in the catalog."""

    parameter_count: PositiveInt = _absent()
    active_parameter_count: PositiveInt = _absent()
    release_date: CalendarDate = _absent()
    serving_locations: list[NonEmptyStr] = _absent()
    developer: NonEmptyStr = _absent()
    license: NonEmptyStr = _absent()
    weights: Weights = _absent()
    languages: list[NonEmptyStr] = _absent()
    base_model: NonEmptyStr = _absent()
    limitations: NonEmptyStr = _absent()


class Lifecycle(_Object):
    """Where the model is in its life: active, deprecated (with dates) or retired."""

    status: LifecycleStatus
    deprecated_at: CalendarDate = _absent()
    retires_at: CalendarDate = _absent()
    successor: RegistryId = _absent(description="Id of the model that replaces this one.")


# --- the definition ----------------------------------------------------------------------


class DefinitionTemplate(_Object):
    """One registry model as a models/ file declares it.

    The API requires created on add; a file may leave it out and the tool fills it.
    """

    id: RegistryId = Field(description="Registry id, e.g. meetkai:my-custom-chat-v1.")
    provider: NonEmptyStr = Field(description="e.g. openai-compatible.")
    model_id: NonEmptyStr = Field(description="Upstream model name.")
    display_name: NonEmptyStr = _absent()
    base_url: HttpUrl = _absent(description="Upstream endpoint; no credentials in it.")
    api_format: NonEmptyStr = Field(
        description="Known: " + ", ".join(KNOWN_API_FORMATS) + "; other strings are allowed.",
        json_schema_extra={"examples": list(KNOWN_API_FORMATS)},
    )
    api_provider_type: ApiProviderType = _absent(
        description="Required to create an entry; a live entry may lack it."
    )
    created: EpochSeconds = _absent(description="Epoch seconds; the tool fills it when left out.")
    auth: Auth
    capabilities: Capabilities
    context_window: PositiveInt = _absent()
    rpm: PositiveInt = _absent()
    rate_limits: list[RateLimit] = _absent()
    concurrency: Concurrency = _absent()
    request_timeout_ms: PositiveInt = _absent()
    max_retries: NonNegativeInt = _absent()
    default_params: DefaultParams = _absent()
    reroute_rules: list[RerouteRule] = _absent()
    hidden: bool = _absent()
    embedding_limits: EmbeddingLimits = _absent()
    health_check: HealthCheck = _absent()
    model_card: ModelCard = _absent()
    lifecycle: Lifecycle = _absent()


def definition_model(api: str = DEFAULT_API) -> type[BaseModel]:
    """The model of a Definition in ``api``'s generation, built once per process.

    Its fields, required keys, union forms and enums are the generation's schema data;
    its checks (strict types, advice, messages) are the templates'. The top level
    requires what the add endpoint requires, except ``apiProviderType`` and ``created``.
    """
    return _definition_model(check_api(api))


@functools.cache
def _definition_model(api: str) -> type[BaseModel]:
    data = schema_data(api)
    return derive_model(
        DefinitionTemplate,
        data,
        name="Definition",
        required=set(data.required_on_add) - OPTIONAL_IN_FILES,
        house_forms=("url-form",),
        base=_Object,
    )


if TYPE_CHECKING:
    # The registry API's model (definition_model() of the default generation).
    Definition: type[BaseModel]


def __getattr__(name: str) -> Any:
    # ``Definition`` is built when first asked for, not on import: a run that reads
    # the catalog API's generation builds that generation's models only.
    if name == "Definition":
        return definition_model(DEFAULT_API)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _SchemaWithoutNullDefaults(GenerateJsonSchema):
    """Omit ``"default": null``: an optional field has no default value, it is absent."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def definition_json_schema(api: str = DEFAULT_API) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a Definition in ``api``'s generation, with the
    API's camelCase keys."""
    schema = definition_model(api).model_json_schema(
        by_alias=True, schema_generator=_SchemaWithoutNullDefaults
    )
    schema["title"] = "MKA1 registry model definition"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def allowed_keys(loc: Sequence[str | int], api: str = DEFAULT_API) -> tuple[str, ...]:
    """The keys allowed in the object at ``loc``, a pydantic error location, in ``api``'s
    generation.

    ``loc`` may hold union tags (``('auth', 'api-key')``) as pydantic reports them.
    Returns ``()`` when ``loc`` does not lead to an object of the Definition.
    """
    annotation: Any = definition_model(api)
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return ()
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return tuple(info.alias or name for name, info in annotation.model_fields.items())
    return ()


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if (info.alias or name) == part:
                return info.annotation
        return None
    if origin is list:
        return get_args(annotation)[0] if isinstance(part, int) else None
    if origin is dict:
        return get_args(annotation)[1]
    if origin is Union or origin is types.UnionType:
        for member in get_args(annotation):
            if _tag_of(member) == part:
                return member
    return None


def _tag_of(member: Any) -> object:
    if get_origin(member) is Annotated:
        for meta in get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
    model = _unwrap(member)
    if isinstance(model, type) and issubclass(model, BaseModel):
        for key in ("type", "mode"):
            info = model.model_fields.get(key)
            if info is not None and get_origin(info.annotation) is Literal:
                return get_args(info.annotation)[0]
    return None


# A complete add body: an update is validated merged onto it, so every field is
# checked by the same models whether it comes in an add or an update.
_SKELETON: dict[str, Any] = {
    "id": "skeleton",
    "provider": "p",
    "modelId": "m",
    "apiFormat": "responses",
    "apiProviderType": "openai",
    "created": 0,
    "auth": {"type": "none"},
    "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
}


def api_problems(body: object, *, update: bool, api: str = DEFAULT_API) -> list[str]:
    """Why ``api``'s generation refuses ``body`` as an add (``update=False``) or an
    update, as ``"<field path>: <message>"``; empty when it accepts it.

    What the API checks, no more: types, enums, required fields (``apiProviderType``
    included), the ``auth`` and ``healthCheck`` forms, and null only on a nullable
    field in an update (on any optional field in an add). Advice is not checked;
    unknown top-level fields are accepted (and ignored), as the API's schema does.
    An update names its entry by ``id`` in the body where the generation says so
    (catalog), and must not hold ``id`` where the path names it (registry).
    """
    if not isinstance(body, dict):
        return ["the request body must be a JSON object"]
    api = check_api(api)
    data = schema_data(api)
    known_fields = frozenset(definition_fields(api))
    nullable = nullable_fields(api)
    required = required_on_add(api)
    found: list[str] = []
    if update:
        if data.update_id_in_body and "id" not in body:
            found.append("id: missing required field")
        elif not data.update_id_in_body and "id" in body:
            found.append("id: cannot be changed by an update")
        for key, value in body.items():
            if value is None and key in known_fields and key not in nullable:
                found.append(f"{key}: not nullable; it cannot be cleared")
        known = {k: v for k, v in body.items() if k in known_fields and v is not None}
        if not data.update_id_in_body:
            known.pop("id", None)
        candidate = {**_SKELETON, **known}
    else:
        found.extend(f"{key}: missing required field" for key in required if key not in body)
        # An optional field may be null on add too (the schema's optional fields are).
        candidate = {
            k: v for k, v in body.items() if k in known_fields and (v is not None or k in required)
        }
        candidate = {**{k: v for k, v in _SKELETON.items() if k not in body}, **candidate}
    try:
        definition_model(api).model_validate(candidate)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if not is_advice(error["type"]):
                path = ".".join(str(part) for part in error["loc"])
                found.append(f"{path}: {error['msg']}")
    if health_check_form(body.get("healthCheck")) == "url-form":
        found.append("healthCheck: expected mode 'off', 'preflight' or 'periodic'")
    return found
