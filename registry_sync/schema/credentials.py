"""What a credential looks like: well-known key formats, and random-looking text.

Two judgements, both of a value alone (where the value sits is
:mod:`registry_sync.schema.secrets`' business):

* :func:`has_credential_shape` -- the value holds a key in a well-known format
  (OpenAI, Anthropic, Stripe, GitHub, GitLab, Slack, AWS, Google, SendGrid, JSON Web
  Tokens, Telegram bot tokens, private key blocks, ``Bearer``/``Basic`` credentials),
  anywhere in it. It is true of such a value wherever it appears.
* :func:`looks_like_credential` -- also a scheme-prefixed credential of any length
  and a long random-looking string (:func:`is_high_entropy`): only for the places
  that carry credentials, where plain words are rare. Names, versions and dates
  never pass it: ``gpt-4o-2024-08-06``, ``Meta-Llama-3.1-70B-Instruct``,
  ``ASSISTANT_CHAT_API_KEY``.

The formats are the regular expressions of detect-secrets' plugins (Yelp, Apache-2.0:
``openai``, ``stripe``, ``github_token``, ``gitlab_token``, ``slack``, ``aws``,
``jwt``, ``telegram_token``, ``sendgrid``, ``private_key``), rewritten only so that
they share one alternation, and gitleaks' rules (MIT) for what its plugins lack
(Anthropic, OpenAI project keys, GitHub fine-grained tokens, Google API keys).
detect-secrets itself is not imported: it takes over 0.1 s to import (it pulls in
``requests`` and ``multiprocessing``), more than a whole warm plan.
``tests/schema/test_credentials.py`` runs detect-secrets' own plugins over the
same samples, so a format they know and this table misses fails the suite.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterator

__all__ = [
    "SHAPES",
    "SHORTEST_CREDENTIAL",
    "credential_spans",
    "has_credential_shape",
    "is_high_entropy",
    "looks_like_credential",
]

# (what, pattern). Each branch starts with a literal or a small character class, so
# that the alternation is fast to scan; none uses a flag.
SHAPES: tuple[tuple[str, str], ...] = (
    ("OpenAI key", r"sk-[A-Za-z0-9_-]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"),
    ("OpenAI or Anthropic key", r"sk-(?:proj|svcacct|admin|ant-[a-z]+[0-9]*)-[A-Za-z0-9_-]{20,}"),
    ("OpenAI legacy key", r"sk-[A-Za-z0-9]{32,}"),
    ("Stripe key", r"[rs]k_(?:live|test)_[0-9a-zA-Z]{24,}"),
    ("GitHub token", r"gh[pousr]_[A-Za-z0-9_]{36}"),
    ("GitHub fine-grained token", r"github_pat_[A-Za-z0-9_]{22,}"),
    ("GitLab token", r"gl(?:pat|dt|ft|soat|rt)-[A-Za-z0-9_-]{20,50}(?![A-Za-z0-9_])"),
    ("Slack token", r"[xX][oO][xX][abposrABPOSR]-(?:[0-9]+-)+[a-zA-Z0-9]+"),
    (
        "Slack webhook",
        r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+",
    ),
    ("AWS access key", r"A(?:3T[A-Z0-9]|BIA|CCA|KIA|SIA)[0-9A-Z]{16}"),
    ("Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    ("JSON Web Token", r"ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,})?"),
    # One digit, then the rest: a branch starting with a character class is skipped
    # at a glance where it cannot match.
    ("Telegram bot token", r"[0-9][0-9]{7,9}:[0-9A-Za-z_-]{35}"),
    ("SendGrid key", r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}"),
    ("private key", r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY"),
    ("Bearer or Basic credential", r"[bB](?:earer|EARER|asic|ASIC)[ \t]+[A-Za-z0-9._~+/-]{8,}=*"),
)
# Shorter text holds no key of these formats (a Slack token this short is no real
# one): it is judged at a glance, and the YAML reader does not even collect it.
SHORTEST_CREDENTIAL = 14
_FIRST = "sSrRgGxXhAe0123456789-bB"


@functools.cache
def _shape() -> re.Pattern[str]:
    """The formats of :data:`SHAPES` in one search. Compiled on first use, as is
    :func:`_gate` (a millisecond each): a warm run asks neither, and this one only
    runs where the other found something."""
    return re.compile(
        f"(?=[{re.escape(_FIRST)}])(?:" + "|".join(f"(?:{pattern})" for _, pattern in SHAPES) + ")"
    )


# A leading class of letters and digits (``[rs]``), and what it holds (``0-9``, ``x``).
_PLAIN_CLASS = re.compile(r"\[((?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9])+)\]")
_CLASS_MEMBER = re.compile(r"([A-Za-z0-9])-([A-Za-z0-9])|([A-Za-z0-9])")


def _literal_led(pattern: str) -> list[str]:
    """``pattern`` as branches that each start with one literal character: a leading
    class of letters, digits and ranges of them (``[rs]``, ``[0-9]``) becomes a branch
    per character. Any other stays as it is (found all the same, only slower)."""
    leading = _PLAIN_CLASS.match(pattern)
    if leading is None:
        return [pattern]
    characters = [
        chr(code)
        for first, last, single in _CLASS_MEMBER.findall(leading[1])
        for code in (range(ord(first), ord(last) + 1) if first else [ord(single)])
    ]
    return [character + pattern[leading.end() :] for character in characters]


# Most text holds no key, and _shape() costs about 30 ns a character (4 us for the
# texts of a model file): it tries its branches wherever a key could start, at every
# digit, 'e', 's' and '-'. _gate() is asked first, at a third of that. It finds every
# text _shape() does (and lets a few more through to it): each branch is led by one
# literal character, so that the regex engine skips to where one can start, and the two
# formats led by a common character are found by a rarer part each of their keys holds.
_FOUND_BY = {
    "JSON Web Token": r"\.ey",  # ey...\.ey...
    "Telegram bot token": r":(?<=[0-9]{8}:)",  # eight digits, then its ':'
}


@functools.cache
def _gate() -> re.Pattern[str]:
    """The quick search that decides whether :func:`_shape` runs (above)."""
    return re.compile(
        "|".join(
            f"(?:{branch})"
            for what, pattern in SHAPES
            for branch in ([_FOUND_BY[what]] if what in _FOUND_BY else _literal_led(pattern))
        )
    )


_SCHEME_CREDENTIAL = re.compile(r"^(?:bearer|basic|token|digest)\s+\S", re.IGNORECASE)
# A value starting like a vendor's key, however short the rest: where credentials go,
# "sk-proj-" and eight more characters is a key cut short, not a name.
_KEY_PREFIX = re.compile(
    r"^(?:sk|pk|rk|gsk|xai|gh[pousr]|github_pat|glpat|xox[abposr])[-_]\S{8,}|^(?:AKIA|ASIA|AIza)\S{8,}"
)
_HEX = re.compile(r"[0-9a-fA-F]+")
_CHUNKS = re.compile(r"[^-_.:~+/=@\s]+")
# A random-looking chunk: this long, letters and digits, switching often between
# lower case, upper case and digits, and this many bits a character.
_MIN_RANDOM = 16
_MIN_BITS = 3.5


def has_credential_shape(value: str) -> bool:
    """True when ``value`` holds a key in a well-known format, anywhere in it.

    A ``Bearer`` credential counts when its token is 16 characters or more with a
    digit, a ``Basic`` one when it decodes to ``user:password``: a display name
    saying "Basic embeddings" is no credential."""
    return next(credential_spans(value), None) is not None


def credential_spans(value: str) -> Iterator[tuple[int, int]]:
    """Where in ``value`` the keys of :func:`has_credential_shape` are, in order."""
    if len(value) < SHORTEST_CREDENTIAL or _gate().search(value) is None:
        return
    for match in _shape().finditer(value):
        if _plausible(match.group()):
            yield match.span()


@functools.lru_cache(maxsize=4096)
def looks_like_credential(value: str, *, path_segment: bool = False) -> bool:
    """For the places that carry credentials: a well-known format, a value starting
    with an authorization scheme (``Bearer ...``) or a vendor's key prefix
    (``sk-``, ``ghp_``...), or random-looking text. In a URL's ``path_segment`` a
    run of hex digits is an id (an account's, a deployment's), not a key. Remembered:
    the names of variables and headers of a registry repeat."""
    stripped = value.strip()
    return (
        bool(_SCHEME_CREDENTIAL.match(stripped) or _KEY_PREFIX.match(stripped))
        or has_credential_shape(value)
        or is_high_entropy(value, hex_is_id=path_segment)
    )


def is_high_entropy(value: str, *, hex_is_id: bool = False) -> bool:
    """True when a piece of ``value`` between separators looks random: at least 16
    letters and digits, both present, switching between lower case, upper case and
    digits at least every fourth character, and at least 3.5 bits of entropy a
    character (a hex digest or a base64 key passes, unless ``hex_is_id``; a model
    name, a date or an environment variable name does not)."""
    if len(value) < _MIN_RANDOM:
        return False
    return any(
        _random(chunk) and not (hex_is_id and _HEX.fullmatch(chunk))
        for chunk in _CHUNKS.findall(value)
        if len(chunk) >= _MIN_RANDOM
    )


def _random(chunk: str) -> bool:
    classes = [_class(character) for character in chunk]
    if 0 not in classes or (1 not in classes and 2 not in classes):
        return False
    switches = sum(1 for a, b in itertools.pairwise(classes) if a != b)
    if switches * 4 < len(chunk):
        return False
    counts = Counter(chunk).values()
    bits = -sum(count / len(chunk) * math.log2(count / len(chunk)) for count in counts)
    return bits >= _MIN_BITS


def _class(character: str) -> int:
    if character.isdigit():
        return 0
    if character.islower():
        return 1
    if character.isupper():
        return 2
    return 3


def _plausible(match: str) -> bool:
    scheme = match[:6].lower()
    if scheme == "bearer":
        token = match[6:].strip()
        plausible = len(token) >= _MIN_RANDOM and any(c.isdigit() for c in token)
    elif scheme.startswith("basic") and match[5:6].isspace():
        token = match[5:].strip()
        plausible = _decodes_to_user_password(token)
    else:
        return True
    # The scheme's match took the text after it: a key there still counts.
    return plausible or has_credential_shape(token)


def _decodes_to_user_password(token: str) -> bool:
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded
