"""Suggestions from an index: difflib's answers, without comparing every candidate."""

from __future__ import annotations

import difflib

from registry_sync.schema.suggest import Suggester, suggester

WORDS = ["contextWindow", "displayName", "hidden", "modalities", "rerouteRules", "auth"]


def test_small_sets_answer_exactly_as_difflib() -> None:
    ask = Suggester(WORDS)
    for word in ["contextWindo", "hiden", "zzz", "displayname", "auht", ""]:
        expected = difflib.get_close_matches(word, WORDS, n=1)
        assert ask.suggest(word) == (expected[0] if expected else None)


def test_large_sets_find_the_misspelt_id_through_the_index() -> None:
    ids = [f"vendor-{n}:chat-model-{n * 7919 % 10_007}" for n in range(5_000)]
    ask = Suggester(ids)
    assert ask.suggest("vendor-1234:chat-modle-" + ids[1234].rsplit("-", 1)[1]) == ids[1234]
    assert ask.suggest("entirely:different") is None


def test_large_sets_of_near_identical_ids_still_suggest_one() -> None:
    ids = [f"m{n:04}" for n in range(2_000)]
    assert Suggester(ids).suggest("m0000x") in ids


def test_fixed_candidate_sets_share_one_index() -> None:
    assert suggester(tuple(WORDS)) is suggester(tuple(WORDS))
