"""Suggestions for misspelt names ("did you mean ...?") from an index built once.

``difflib.get_close_matches`` compares a word with every candidate; called once per
problem over thousands of ids it turns an error report quadratic. A ``Suggester`` is
built once per run over its candidates and answers each word at most once: small
candidate sets are searched exactly as ``difflib`` does, large ones through an index
of the candidates' character trigrams, comparing only the few that share the most
of the word's rarest trigrams.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["Suggester", "suggester"]

# Up to this many candidates every one is compared: the same answer as difflib's.
_EXACT_LIMIT = 500
# How many index entries one word may visit: its rarest trigrams first.
_POSTING_BUDGET = 1_000
# The candidates sharing the most of those trigrams, compared in full.
_SHORTLIST = 6


class Suggester:
    """The closest candidate to a word, as ``difflib.get_close_matches(word, n=1)``."""

    def __init__(self, candidates: Iterable[str]) -> None:
        self._candidates = list(dict.fromkeys(candidates))
        self._answers: dict[str, str | None] = {}
        self._index: dict[str, list[int]] = {}
        if len(self._candidates) > _EXACT_LIMIT:
            for number, candidate in enumerate(self._candidates):
                for gram in _trigrams(candidate):
                    self._index.setdefault(gram, []).append(number)

    def suggest(self, word: str) -> str | None:
        """The closest candidate (similarity at least 0.6), or None."""
        if word not in self._answers:
            close = difflib.get_close_matches(word, self._shortlist(word), n=1)
            self._answers[word] = close[0] if close else None
        return self._answers[word]

    def _shortlist(self, word: str) -> list[str]:
        if not self._index:
            return self._candidates
        postings = sorted(
            (self._index[gram] for gram in _trigrams(word) if gram in self._index), key=len
        )
        shared: Counter[int] = Counter()
        budget = _POSTING_BUDGET
        for posting in postings:
            if shared and len(posting) > budget:
                break
            budget -= len(posting)
            shared.update(posting)
        best = sorted(number for number, _ in shared.most_common(_SHORTLIST))
        return [self._candidates[number] for number in best]


@lru_cache(maxsize=64)
def suggester(candidates: tuple[str, ...]) -> Suggester:
    """One ``Suggester`` per fixed candidate set (field names, config keys), per process."""
    return Suggester(candidates)


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[start : start + 3] for start in range(len(padded) - 2)}
