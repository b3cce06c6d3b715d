"""The one rule for registry ids: what registry-sync can address safely.

The API reference gives ids no character set, and an id travels in a URL: as one path
segment (``/registry/{id}``) in the registry generation, as the ``id`` query value in
the catalog's. An id is addressable when it is not empty, not ``.`` or ``..`` (which
HTTP clients and servers collapse as dot segments: ``DELETE /registry/..`` would
reach the folder above), holds no control character (C0, DEL, C1), no whitespace
(a line or paragraph separator included), no invisible format character (bidi
overrides, zero-width spaces: two ids that print the same must be the same id) and
no lone surrogate (no UTF-8 can carry it). Every other id reads back unchanged
from its percent-encoding.

Declared ids that break the rule are errors at their line; live ones are left out
of the plan with a warning (:func:`unaddressable_warning`). :func:`id_segment` and
:func:`id_query` are the only ways a request path is built from an id, so what a dry
run shows is byte for byte what the client sends.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote

__all__ = [
    "ID_RULE",
    "UnaddressableId",
    "id_problem",
    "id_query",
    "id_segment",
    "shown_id",
    "unaddressable_warning",
]

ID_RULE = (
    "an id is not empty, not '.' or '..', and holds no whitespace, control or "
    "invisible format character"
)
# Unicode categories refused anywhere in an id: controls, format characters (bidi
# overrides, zero-width), surrogates, and the space, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_PLAIN = re.compile(r"[!-~]+")


class UnaddressableId(ValueError):
    """A request was to be built for an id that breaks :data:`ID_RULE`."""


def id_problem(model_id: str) -> str | None:
    """Why ``model_id`` breaks the id rule, in words (never repeating the id); None
    when registry-sync can address it."""
    if _PLAIN.fullmatch(model_id) and model_id not in (".", ".."):
        return None  # nearly every id: printable ASCII, no need to look at each character
    if not model_id:
        return "should not be empty"
    if model_id in (".", ".."):
        return f"should not be {model_id!r}: a path segment {model_id!r} names another endpoint"
    for position, char in enumerate(model_id, start=1):
        if char.isspace() or unicodedata.category(char) in _REFUSED_CATEGORIES:
            return (
                "should hold no whitespace, control or invisible format character, but "
                f"character {position} is U+{ord(char):04X}"
            )
    # Without these, quote() encodes every other character as UTF-8 and unquote()
    # gives it back: a property test holds every accepted id to that.
    return None


def shown_id(model_id: str) -> str:
    """``model_id`` quoted, with every character that is not printable escaped, so a
    hostile id shows on one line and cannot drive a terminal."""
    return repr(model_id)


def unaddressable_warning(ids: Sequence[str]) -> str:
    """The warning naming the live ids left out of the plan because they break the
    rule (each escaped)."""
    shown = ", ".join(shown_id(model_id) for model_id in ids)
    one = len(ids) == 1
    them = "it" if one else "them"
    return (
        f"warning: {len(ids)} live {'entry' if one else 'entries'} left out, "
        f"{'its id' if one else 'their ids'} not safely addressable ({ID_RULE}): "
        f"{shown}; registry-sync never writes {them} (prune included): fix or remove "
        f"{them} with the registry's own tools"
    )


def id_segment(model_id: str) -> str:
    """``model_id`` as one percent-encoded path segment (every reserved character
    encoded, ``:`` and ``/`` included). Raises :class:`UnaddressableId` for an id
    that breaks the rule, before any request is built."""
    return quote(_checked(model_id), safe="")


def id_query(model_id: str) -> str:
    """``?id=<model_id>``, the value percent-encoded (``&``, ``#``, ``+`` and ``=``
    included). Raises :class:`UnaddressableId` as :func:`id_segment` does."""
    return f"?id={quote(_checked(model_id), safe='')}"


def _checked(model_id: str) -> str:
    problem = id_problem(model_id)
    if problem is not None:
        raise UnaddressableId(f"registry id {shown_id(model_id)} {problem} ({ID_RULE})")
    return model_id
