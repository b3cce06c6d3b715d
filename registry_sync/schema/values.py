"""Small facts about JSON-like values, shared by every module that reports on them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["deep_copy", "format_path", "is_number", "json_kind"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(keys: Iterable[str | int]) -> str:
    """``['rateLimits', 0, 'queue']`` -> ``rateLimits[0].queue``.

    A key that is not a plain name (a header such as ``X-Api.Key``, or one with
    spaces or control characters) is quoted: ``headers["X-Api.Key"]``.
    """
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        elif _PLAIN_KEY.match(key):
            text += f".{key}" if text else key
        else:
            text += f"[{json.dumps(key)}]"
    return text


def json_kind(value: object) -> str:
    """What kind of JSON value this is, for messages: ``a string``, ``null``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value.strip() else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def deep_copy(value: Any) -> Any:
    """A copy of nested dicts and lists in which no two places share an object."""
    if isinstance(value, dict):
        return {key: deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value


def is_number(value: Any) -> bool:
    """True for an int or a float, never a bool (JSON's true is no count)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
