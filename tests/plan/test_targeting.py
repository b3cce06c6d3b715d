"""--target: only matching ids are planned; a pattern matching nothing is an error;
the delete-all rail counts the entries a partial plan left out."""

from __future__ import annotations

import dataclasses

import pytest

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.errors import ConfigError
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.model import Action
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.plan.policy import Rules, judge
from registry_sync.plan.targeting import matches, select


def desired(model_id: str) -> DesiredDefinition:
    return DesiredDefinition(model_id, {"id": model_id}, f"models/{model_id}.yaml", 1)


def live(model_id: str, *, immutable: bool = False) -> LiveEntry:
    return LiveEntry(model_id, immutable, "system" if immutable else "user", {"id": model_id})


LIVE = (live("openai:a"), live("openai:b"), live("meetkai:c"), live("sys:d", immutable=True))


@pytest.mark.parametrize(
    ("model_id", "patterns", "expected"),
    [
        ("openai:a", ["openai:a"], True),
        ("openai:a", ["openai:*"], True),
        ("openai:a", ["OPENAI:*"], False),
        ("openai:a", ["openai:?"], True),
        ("openai:ab", ["openai:?"], False),
        ("openai:a", ["meetkai:*", "openai:[ab]"], True),
    ],
)
def test_matches_exact_ids_and_globs(model_id: str, patterns: list[str], expected: bool) -> None:
    assert matches(model_id, patterns) is expected


def test_select_keeps_matching_ids_and_counts_the_mutable_rest() -> None:
    chosen = select(["openai:*"], [desired("openai:a"), desired("meetkai:new")], LIVE)
    assert [d.id for d in chosen.desired] == ["openai:a"]
    assert [e.id for e in chosen.live] == ["openai:a", "openai:b"]
    # meetkai:c is mutable and left out; the immutable sys:d never counts.
    assert chosen.untargeted == 1


def test_a_pattern_matching_nothing_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"--target 'nope:\*', 'x' match no id"):
        select(["openai:*", "nope:*", "x"], [desired("openai:a")], LIVE)


def test_prune_with_target_deletes_only_matching_ids() -> None:
    chosen = select(["openai:b"], [], LIVE)
    plan = build_plan(chosen.desired, chosen.live, PlanOptions(prune=True))
    assert [(c.id, c.action) for c in plan.changes] == [("openai:b", Action.DELETE)]


@pytest.mark.parametrize(("patterns", "refused"), [(["openai:*"], False), (["*"], True)])
def test_delete_all_judges_the_whole_registry(patterns: list[str], refused: bool) -> None:
    chosen = select(patterns, [], LIVE)
    plan = build_plan(chosen.desired, chosen.live, PlanOptions(prune=True))
    plan = dataclasses.replace(plan, targets=tuple(patterns), untargeted=chosen.untargeted)
    judged = judge(plan, Rules())
    assert ("delete-all" in [v.rule for v in judged.violations]) is refused
