"""The policy step: safety rails, risk classes, denied classes and reroute checks. Table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sync.live.entries import LiveEntry
from registry_sync.plan import edges
from registry_sync.plan.model import (
    Action,
    Change,
    ChangeKind,
    FieldChange,
    Plan,
    Risk,
    Violation,
)
from registry_sync.plan.policy import RULES, Rules, SafetyRails, classify, judge
from registry_sync.schema import reroutes
from registry_sync.schema.reroutes import RerouteEdge, find_cycles


def live(model_id: str) -> LiveEntry:
    return LiveEntry(model_id, False, "database", {"id": model_id}, updated_at=1)


def change(model_id: str, action: Action, *changes: FieldChange, **fields: Any) -> Change:
    fingerprint = None if action is Action.CREATE else live(model_id).fingerprint()
    return Change(model_id, action, "why", live_fingerprint=fingerprint, changes=changes, **fields)


def plan(*changes: Change) -> Plan:
    return Plan(changes=changes, models_dir="models", registry="https://r")


MIXED = plan(
    change("prod:chat", Action.REPLACE),
    change("prod:embed", Action.UPDATE),
    change("team:a", Action.DELETE),
    change("team:b", Action.DELETE),
    change("team:c", Action.NO_OP),
    change("team:new", Action.CREATE),
)


def messages(judged: Plan) -> list[tuple[str, str | None, str]]:
    return [(v.rule, v.id, v.message) for v in judged.violations]


@pytest.mark.parametrize(
    ("rails", "found"),
    [
        (SafetyRails(), []),
        (SafetyRails(protect=("prod:embed",)), []),  # updated, never deleted: allowed
        (
            SafetyRails(protect=("prod:*", "team:a")),
            [
                (
                    "protect",
                    "prod:chat",
                    "prod:chat is protected (protect: 'prod:*') and the plan would replace "
                    "(delete and re-create) it",
                ),
                (
                    "protect",
                    "team:a",
                    "team:a is protected (protect: 'team:a') and the plan would delete it",
                ),
            ],
        ),
        (SafetyRails(max_deletes=2), []),
        (
            SafetyRails(max_deletes=1),
            [("max-deletes", None, "the plan deletes 2 entries, more than --max-deletes 1")],
        ),
        (
            SafetyRails(freeze=("prod:*", "team:n*")),
            [
                (
                    "freeze",
                    "prod:chat",
                    "prod:chat is frozen (freeze: 'prod:*') and the plan would replace "
                    "(delete and re-create) it",
                ),
                (
                    "freeze",
                    "prod:embed",
                    "prod:embed is frozen (freeze: 'prod:*') and the plan would update it",
                ),
                (
                    "freeze",
                    "team:new",
                    "team:new is frozen (freeze: 'team:n*') and the plan would create it",
                ),
            ],
        ),
        # A no-op entry is never a write, whatever freeze says.
        (SafetyRails(freeze=("team:c",)), []),
    ],
)
def test_safety_rails(rails: SafetyRails, found: list[tuple[str, str | None, str]]) -> None:
    assert messages(judge(MIXED, Rules(rails=rails))) == found


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ((change("a", Action.DELETE), change("b", Action.DELETE)), True),
        # Immutable entries (read-only) are not the registry's mutable entries.
        ((change("a", Action.DELETE), change("sys", Action.READ_ONLY)), True),
        ((change("a", Action.DELETE), change("b", Action.NO_OP)), False),
        ((change("a", Action.DELETE), change("b", Action.UNMANAGED)), False),
        ((change("a", Action.DELETE), change("b", Action.REPLACE)), False),
        ((change("new", Action.CREATE),), False),  # an empty registry: nothing to delete
    ],
)
def test_deleting_every_mutable_entry_needs_allow_delete_all(
    changes: tuple[Change, ...], refused: bool
) -> None:
    found = judge(plan(*changes), Rules()).violations

    assert [v.rule for v in found] == (["delete-all"] if refused else [])
    allowed = Rules(rails=SafetyRails(allow_delete_all=True))
    assert judge(plan(*changes), allowed).violations == ()
    if refused:
        assert found[0].message.startswith("the plan deletes every mutable entry in the registry")


def test_a_read_only_conflict_is_a_violation() -> None:
    conflicting = plan(change("sys:chat", Action.READ_ONLY, conflict=True))

    assert judge(conflicting, Rules()).violations == (
        Violation(
            "read-only-conflict",
            "sys:chat",
            "sys:chat is immutable on the server and its file differs: it can never be "
            "written; make the file match the server or remove it",
        ),
    )


def changed(path: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(path, ChangeKind.CHANGED, before, after)


def added(path: str, after: Any) -> FieldChange:
    return FieldChange(path, ChangeKind.ADDED, None, after)


def removed(path: str, before: Any) -> FieldChange:
    return FieldChange(path, ChangeKind.REMOVED, before, None)


ENV_VAR = (
    "the server reads the key from another environment variable, which its operators must "
    "set before apply"
)
INLINE = (
    "the registry's inline key (sensitive) is deleted; calls fail unless the server has the "
    "key another way"
)
CHECK_ON = (
    "the server probes the upstream, and a failing probe makes the model unavailable to callers"
)
CHECK_OFF = "the server stops probing the upstream, so an outage goes unnoticed"

RULE_A = {"trigger": {"type": "context-exceeded"}, "targetModelId": "m:big"}
RULE_B = {"trigger": {"type": "error-fallback"}, "targetModelId": "m:backup"}


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ((changed("displayName", "Chat", "Chat 2"),), ()),
        (
            (changed("apiFormat", "responses", "chat"),),
            ('apiFormat changed ("responses" -> "chat")',),
        ),
        ((changed("modelId", "a", "b"),), ('modelId changed ("a" -> "b")',)),
        ((changed("provider", "a", "b"),), ('provider changed ("a" -> "b")',)),
        ((changed("auth.type", "none", "bearer"),), ('auth.type changed ("none" -> "bearer")',)),
        (
            (changed("apiProviderType", "groq", "openai"),),
            ('apiProviderType changed ("groq" -> "openai")',),
        ),
        # The whole auth object differs but its type does not: the part that changed is
        # named, never its value.
        (
            (
                changed(
                    "auth", {"type": "api-key", "envVar": "A"}, {"type": "api-key", "envVar": "B"}
                ),
            ),
            (f"auth.envVar changed: {ENV_VAR}",),
        ),
        ((changed("auth.envVar", "A", "B"),), (f"auth.envVar changed: {ENV_VAR}",)),
        # The case: an exported inline key, the file names a variable instead.
        (
            (added("auth.envVar", "ACME_KEY"), removed("auth.value", "(sensitive)")),
            (f"auth.envVar added: {ENV_VAR}", f"auth.value removed: {INLINE}"),
        ),
        (
            (changed("auth.type", "api-key", "none"), removed("auth.envVar", "K")),
            ('auth.type changed ("api-key" -> "none")', f"auth.envVar removed: {ENV_VAR}"),
        ),
        (
            (changed("auth.headerName", "X-Key", "Authorization"),),
            ("auth.headerName changed: the key is sent to the upstream in another header",),
        ),
        (
            (changed("auth.headers.X-Org", "(sensitive)", "acme"),),
            ("auth.headers.X-Org changed: the upstream receives other credential headers",),
        ),
        (
            (added('auth.headers["X Team"]', "core"),),
            ('auth.headers["X Team"] added: the upstream receives other credential headers',),
        ),
        (
            (changed("auth.envVars", {"X-Org": "A"}, {"X-Org": "B"}),),
            (
                "auth.envVars changed: the server reads header values from other environment "
                "variables, which its operators must set before apply",
            ),
        ),
        (
            (changed("auth.strategies[1].envVar", "A", "B"),),
            (f"auth.strategies[1].envVar changed: {ENV_VAR}",),
        ),
        (
            (removed("auth.strategies[1]", {"type": "none"}),),
            ("auth.strategies[1] removed: a strategy of the composite auth is added or dropped",),
        ),
        (
            (changed("auth.strategies[0].type", "none", "api-key"),),
            ("auth.strategies[0].type changed: a strategy authenticates another way",),
        ),
        ((changed("rpm", 600, 60),), ("rpm lowered (600 -> 60)",)),
        ((changed("rpm", 60, 600),), ()),
        ((changed("concurrency.max", 8, 2),), ("concurrency.max lowered (8 -> 2)",)),
        ((changed("concurrency.maxWaitMs", 800, 200),), ()),
        (
            (changed("healthCheck.mode", "off", "preflight"), added("healthCheck.path", "/h")),
            (f"healthCheck turned on (off -> preflight): {CHECK_ON}",),
        ),
        (
            (added("healthCheck", {"mode": "periodic", "path": "/h", "intervalSeconds": 30}),),
            (f"healthCheck turned on (off -> periodic): {CHECK_ON}",),
        ),
        (
            (removed("healthCheck", {"url": "https://a.example/h", "method": "GET"}),),
            (f"healthCheck turned off (url-form -> off): {CHECK_OFF}",),
        ),
        (
            (changed("healthCheck.mode", "periodic", "off"),),
            (f"healthCheck turned off (periodic -> off): {CHECK_OFF}",),
        ),
        # On stays on: the older {url, method} form rewritten as a preflight check.
        (
            (
                changed(
                    "healthCheck",
                    {"url": "https://a.example/h", "method": "GET"},
                    {"mode": "preflight", "path": "/h"},
                ),
            ),
            (),
        ),
        ((added("healthCheck.mode", "preflight"), removed("healthCheck.url", "https://a")), ()),
        ((changed("healthCheck.intervalSeconds", 30, 60),), ()),
        (
            (removed("capabilities.modalities.input[1]", "image"),),
            ('input modality "image" removed',),
        ),
        ((added("capabilities.modalities.input[1]", "image"),), ()),
        # Item by item, the way a list diff reports a removal in the middle.
        (
            (
                changed("capabilities.modalities.input[1]", "image", "audio"),
                removed("capabilities.modalities.input[2]", "audio"),
            ),
            ('input modality "image" removed',),
        ),
        # Or the whole list at once, compared as a set.
        (
            (changed("capabilities.modalities.output", ["text", "audio"], ["audio", "text"]),),
            (),
        ),
        (
            (changed("capabilities.modalities.output", ["text", "audio"], ["text"]),),
            ('output modality "audio" removed',),
        ),
        ((changed("contextWindow", 16384, 8192),), ("contextWindow lowered (16384 -> 8192)",)),
        ((changed("contextWindow", 8192, 16384),), ()),
        (
            (changed("hidden", False, True),),
            ("hidden turned on",),
        ),
        ((added("hidden", True),), ("hidden turned on",)),
        ((changed("hidden", True, False),), ()),
        ((added("hidden", False),), ()),
        (
            (changed("rerouteRules[0].targetModelId", "m:big", "m:bigger"),),
            ("reroute rule rerouteRules[0] retargeted (m:big -> m:bigger)",),
        ),
        ((changed("rerouteRules[0].log", False, True),), ()),
        (
            (removed("rerouteRules[1]", RULE_B),),
            ("reroute rule rerouteRules[1] removed (to m:backup)",),
        ),
        ((added("rerouteRules[1]", RULE_B),), ()),
        # A removed top-level field: before the value, after null.
        (
            (removed("rerouteRules", [RULE_A, RULE_B]),),
            (
                "reroute rule rerouteRules[0] removed (to m:big)",
                "reroute rule rerouteRules[1] removed (to m:backup)",
            ),
        ),
        # Whole lists: rules are matched by trigger, wherever they stand.
        (
            (changed("rerouteRules", [RULE_A, RULE_B], [RULE_B]),),
            ("reroute rule for context-exceeded removed (to m:big)",),
        ),
        ((changed("rerouteRules", [RULE_A, RULE_B], [RULE_B, RULE_A]),), ()),
        (
            (changed("rerouteRules", [RULE_A], [{**RULE_A, "targetModelId": "m:huge"}]),),
            ("reroute rule for context-exceeded retargeted (m:big -> m:huge)",),
        ),
        (
            (changed("baseUrl", "https://a.example/v1", "https://b.example/v1"),),
            ("baseUrl host changed (a.example -> b.example)",),
        ),
        ((changed("baseUrl", "https://a.example/v1", "https://a.example/v2"),), ()),
        (
            (added("baseUrl", "https://a.example/v1"),),
            ("baseUrl host changed ((none) -> a.example)",),
        ),
    ],
)
def test_breaking_reasons(changes: tuple[FieldChange, ...], reasons: tuple[str, ...]) -> None:
    risk, found = classify(change("m:chat", Action.UPDATE, *changes))

    assert found == reasons
    assert risk is (Risk.BREAKING if reasons else Risk.SAFE)


@pytest.mark.parametrize(
    ("action", "changes", "risk", "reasons"),
    [
        (Action.DELETE, (), Risk.DESTRUCTIVE, ("deleted: callers of this id get an error",)),
        (Action.REPLACE, (), Risk.DESTRUCTIVE, ("replaced: deleted, then re-created",)),
        (
            Action.REPLACE,
            (changed("apiFormat", "a", "b"),),
            Risk.DESTRUCTIVE,
            ("replaced: deleted, then re-created", 'apiFormat changed ("a" -> "b")'),
        ),
        (Action.CREATE, (), Risk.SAFE, ()),
        (Action.NO_OP, (), Risk.SAFE, ()),
        (Action.READ_ONLY, (changed("apiFormat", "a", "b"),), Risk.SAFE, ()),
    ],
)
def test_risk_class_of_each_action(
    action: Action, changes: tuple[FieldChange, ...], risk: Risk, reasons: tuple[str, ...]
) -> None:
    assert classify(change("m:x", action, *changes)) == (risk, reasons)


BREAKING = plan(
    change("m:chat", Action.UPDATE, changed("apiFormat", "responses", "chat")),
    change("m:old", Action.DELETE),
    change("m:keep", Action.NO_OP),
)


@pytest.mark.parametrize(
    ("deny", "allow", "rules"),
    [
        (frozenset(), frozenset(), []),
        (frozenset({Risk.BREAKING}), frozenset(), ["breaking-denied"]),
        (frozenset({Risk.BREAKING}), frozenset({Risk.BREAKING}), []),
        (frozenset({Risk.DESTRUCTIVE}), frozenset({Risk.BREAKING}), ["destructive-denied"]),
        (
            frozenset({Risk.DESTRUCTIVE, Risk.BREAKING}),
            frozenset(),
            ["destructive-denied", "breaking-denied"],
        ),
    ],
)
def test_policy_deny_turns_a_risk_class_into_a_violation(
    deny: frozenset[Risk], allow: frozenset[Risk], rules: list[str]
) -> None:
    judged = judge(BREAKING, Rules(deny=deny, allow=allow))

    assert [v.rule for v in judged.violations] == rules
    assert set(rules) <= set(RULES)
    assert judged.risk_counts() == {"safe": 0, "breaking": 1, "destructive": 1}


def test_the_breaking_denial_names_the_reason_and_the_way_out() -> None:
    (violation,) = judge(BREAKING, Rules(deny=frozenset({Risk.BREAKING}))).violations

    assert violation.message == (
        'm:chat: breaking change (apiFormat changed ("responses" -> "chat")) denied by '
        "policy.breaking: deny in registry-sync.yaml; pass --allow breaking if it is intended"
    )


def reroutes_to(*targets: str) -> dict[str, Any]:
    return {
        "rerouteRules": [
            {"trigger": {"type": "error-fallback"}, "targetModelId": t} for t in targets
        ]
    }


def test_deleting_a_reroute_target_is_a_violation() -> None:
    live_definitions = {
        "m:chat": reroutes_to("m:old"),
        "m:old": {},
        "m:other": reroutes_to("m:old"),
    }
    # m:other stops rerouting to m:old; m:chat still does.
    pruned = plan(
        change("m:chat", Action.NO_OP),
        change("m:old", Action.DELETE),
        change("m:other", Action.UPDATE, patch={"rerouteRules": []}),
    )

    judged = judge(pruned, Rules(), live_definitions)

    assert messages(judged) == [
        (
            "reroute-target-deleted",
            "m:old",
            "m:old is deleted by the plan, but m:chat still reroutes to it "
            "(rerouteRules[0], error-fallback); retarget or remove that rule first, or "
            "keep m:old",
        )
    ]
    assert judged.reroutes == (
        RerouteEdge("m:chat", "m:old", "error-fallback", "kept"),
        RerouteEdge("m:other", "m:old", "error-fallback", "removed"),
    )


def test_the_reroute_edges_of_a_retargeted_rule() -> None:
    live_definitions = {"m:chat": reroutes_to("m:a"), "m:a": {}, "m:b": {}, "m:far": {}}
    retarget = plan(
        change("m:chat", Action.UPDATE, patch=reroutes_to("m:b")),
        change("m:a", Action.NO_OP),
        change("m:b", Action.NO_OP),
        change("m:far", Action.NO_OP),
    )

    assert judge(retarget, Rules(), live_definitions).reroutes == (
        RerouteEdge("m:chat", "m:a", "error-fallback", "removed"),
        RerouteEdge("m:chat", "m:b", "error-fallback", "added"),
    )


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": ["b"], "b": ["c"]}, []),
        ({"a": ["b"], "b": ["a"]}, [["a", "b"]]),
        ({"a": ["a"]}, [["a"]]),
        ({"c": ["a"], "a": ["b"], "b": ["c"], "d": ["a"]}, [["a", "b", "c"]]),
        ({"a": ["b"], "b": ["a"], "x": ["y"], "y": ["x", "z"]}, [["a", "b"], ["x", "y"]]),
        # The shortest way round, when there are several.
        ({"a": ["b", "c"], "b": ["c"], "c": ["a"]}, [["a", "c"]]),
    ],
)
def test_find_cycles(graph: dict[str, list[str]], cycles: list[list[str]]) -> None:
    assert find_cycles(graph) == cycles


def test_find_cycles_handles_a_long_chain_without_recursion() -> None:
    chain = {f"m{i}": [f"m{i + 1}"] for i in range(5000)}
    chain["m5000"] = ["m0"]

    (cycle,) = find_cycles(chain)
    assert len(cycle) == 5001


def _cycles_without_peeling(targets: dict[str, list[str]]) -> list[list[str]]:
    # The search over the whole graph, as it ran before the acyclic part was peeled off.
    graph = {node: sorted(set(edges)) for node, edges in targets.items()}
    cycles = []
    for part in reroutes._strong_parts(graph):
        start = min(part)
        if len(part) == 1 and start not in graph.get(start, ()):
            continue
        cycles.append(reroutes._cycle_through(graph, set(part), start))
    return sorted(cycles)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"), st.lists(st.sampled_from("abcdefghij"), max_size=3)
    )
)
def test_peeling_off_the_acyclic_part_finds_the_same_cycles(graph: dict[str, list[str]]) -> None:
    assert find_cycles(graph) == _cycles_without_peeling(graph)


def test_a_star_of_fallbacks_leaves_nothing_to_search() -> None:
    star = {f"m{i}": ["fallback"] for i in range(100)}
    star["fallback"] = ["last-resort"]
    assert reroutes._where_cycles_can_be({k: set(v) for k, v in star.items()}) == {}
    assert find_cycles(star) == []


_TARGETS = st.one_of(
    st.sampled_from(["a", "b", "c"]), st.none(), st.integers(), st.lists(st.text())
)
_RULES = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"targetModelId": _TARGETS},
            optional={"trigger": st.fixed_dictionaries({"type": st.sampled_from(["x", "y"])})},
        ),
        st.text(),
        st.none(),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_RULES, st.none(), st.text()), st.sets(st.sampled_from(["a", "b", "c"])))
def test_the_glance_at_targets_agrees_with_the_rules_read_in_full(
    rules: Any, ids: set[str]
) -> None:
    # plan_edges skips an entry the glance says names none of the written ids.
    definition = {"rerouteRules": rules}
    in_full = any(rule.target in ids for rule in reroutes.rules_of("m", definition))
    assert reroutes.may_target(definition, ids) == in_full


_IDS = st.sampled_from(["a", "b", "c", "d"])
_RULE_LISTS = st.lists(
    st.fixed_dictionaries(
        {
            "trigger": st.fixed_dictionaries({"type": st.sampled_from(["x", "y"])}),
            "targetModelId": _IDS,
        }
    ),
    max_size=2,
)


def _edges_read_in_full(
    plan: Plan, before: dict[str, Any], after: dict[str, Any]
) -> tuple[RerouteEdge, ...]:
    written = {change.id for change in plan.writes}

    def touching(definitions: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {
            (rule.source, rule.target, rule.trigger)
            for model_id, definition in definitions.items()
            for rule in reroutes.rules_of(model_id, definition)
            if rule.source in written or rule.target in written
        }

    old, new = touching(before), touching(after)
    edges = [RerouteEdge(*key, "kept" if key in new else "removed") for key in old] + [
        RerouteEdge(*key, "added") for key in new - old
    ]
    return tuple(sorted(edges, key=lambda edge: (edge.source, edge.target, edge.trigger)))


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(_IDS, _RULE_LISTS),
    st.dictionaries(
        _IDS, st.one_of(st.none(), _RULE_LISTS.map(lambda rules: {"rerouteRules": rules}))
    ),
)
def test_reroute_edges_of_a_plan_match_reading_every_definition_again(
    live_rules: dict[str, list[Any]], writes: dict[str, dict[str, Any] | None]
) -> None:
    before = {model_id: {"rerouteRules": rules} for model_id, rules in live_rules.items()}
    changes = []
    for model_id, patch in sorted(writes.items()):
        if patch is None:
            changes.append(change(model_id, Action.DELETE))
        elif model_id in before:
            changes.append(change(model_id, Action.UPDATE, patch=patch))
        else:
            changes.append(change(model_id, Action.CREATE, body={"id": model_id, **patch}))
    computed = plan(*changes)
    after = edges.definitions_after(computed, before)
    expected = _edges_read_in_full(computed, before, after)
    assert edges.plan_edges(computed, before, after) == expected
