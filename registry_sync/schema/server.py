"""What the server adds to a definition: the fields it owns, which no file may set,
and the nulls it may store for a field a PATCH cleared (a null means absent)."""

from __future__ import annotations

from typing import Any

__all__ = ["SERVER_OWNED_FIELDS", "without_nulls"]

# Keys a models/ file may not set, because the server owns them.
SERVER_OWNED_FIELDS = ("source", "immutable", "health", "created_at", "updated_at")


def without_nulls(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` without the keys whose value is null, at any depth: a live null
    means the field is absent (a server may store the null a clearing PATCH sent).

    Returns ``definition`` itself when it holds no null, so equal entries cost a scan.
    """
    if not _has_null(definition):
        return definition
    cleaned: dict[str, Any] = _drop_nulls(definition)
    return cleaned


def _has_null(value: dict[str, Any] | list[Any]) -> bool:
    # A loop over a stack, and no call per value: this runs on every live entry. A
    # null inside a list is an item, not an absent field: only mapping values count.
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        mapping = type(node) is dict
        for item in node.values() if mapping else node:
            if item is None:
                if mapping:
                    return True
            elif type(item) is dict or type(item) is list:
                stack.append(item)
    return False


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value
