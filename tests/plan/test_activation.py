"""Activation in the catalog generation, table-driven: declared models are served from
byo unless kept inactive; platform names are served as registry-sync.yaml asks; a name
another source serves is taken only where ``activation.switch`` says so."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from registry_sync.desired.loader import DesiredDefinition
from registry_sync.errors import PlanFileError
from registry_sync.live.entries import Activation, LiveEntry
from registry_sync.plan.activation import activation_problems
from registry_sync.plan.document import plan_document, render_json
from registry_sync.plan.model import Action, Change, Plan, Risk
from registry_sync.plan.planfile import check_generation, read_plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.plan.policy import Rules, judge
from registry_sync.render.markdown import render_markdown
from registry_sync.render.text import render_text

CHAT = "acme:chat"


def body(model_id: str = CHAT, **overrides: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": model_id,
        "provider": "openai-compatible",
        "modelId": "chat-v1",
        "apiFormat": "responses",
        "apiProviderType": "openai",
        "created": 1_700_000_000,
        "auth": {"type": "api-key", "envVar": "CHAT_KEY"},
        "capabilities": {"modalities": {"input": ["text"], "output": ["text"]}, "reasoning": False},
    }
    found.update(overrides)
    return found


def declared(definition: dict[str, Any]) -> DesiredDefinition:
    return DesiredDefinition(definition["id"], definition, f"models/{definition['id']}.yaml", 1)


def entry(
    definition: dict[str, Any],
    *,
    source: str = "byo",
    origin: str | None = "api",
    active: str | None = "byo",
    sources: tuple[str, ...] = ("byo",),
) -> LiveEntry:
    return LiveEntry(
        id=definition["id"],
        immutable=source != "byo" or origin == "yaml",
        source=source,
        definition=copy.deepcopy(definition),
        updated_at=1_704_153_600_000,
        origin=origin,
        activation=Activation(active, sources),
    )


def plan_of(
    desired: list[DesiredDefinition], live: list[LiveEntry], **options: Any
) -> tuple[Change, ...]:
    made = build_plan(desired, live, PlanOptions(api="catalog", **options))
    return judge(made, Rules(), {e.id: e.definition for e in live}).changes


def only(desired: list[DesiredDefinition], live: list[LiveEntry], **options: Any) -> Change:
    changes = plan_of(desired, live, **options)
    assert len(changes) == 1, changes
    return changes[0]


# (case, desired, live, options) -> (action, activate, deactivate, held_by, risk)
CASES: list[tuple[str, Any, Any, dict[str, Any], tuple[Action, Any, Any, Any, Risk]]] = [
    (
        "a new model is defined and activated",
        body(),
        None,
        {},
        (Action.CREATE, "byo", None, None, Risk.SAFE),
    ),
    (
        "a new model kept inactive is only defined",
        body(),
        None,
        {"inactive": ("acme:*",)},
        (Action.CREATE, None, None, None, Risk.SAFE),
    ),
    (
        "an active model in sync is left alone",
        body(),
        entry(body()),
        {},
        (Action.NO_OP, None, None, None, Risk.SAFE),
    ),
    (
        "a defined model nobody serves is activated",
        body(),
        entry(body(), active=None),
        {},
        (Action.ACTIVATE, "byo", None, None, Risk.SAFE),
    ),
    (
        "an active model kept inactive is deactivated, a breaking change",
        body(),
        entry(body()),
        {"inactive": (CHAT,)},
        (Action.DEACTIVATE, None, "byo", None, Risk.BREAKING),
    ),
    (
        "an inactive model kept inactive is left alone",
        body(),
        entry(body(), active=None),
        {"inactive": (CHAT,)},
        (Action.NO_OP, None, None, None, Risk.SAFE),
    ),
    (
        "a drifted inactive model is updated and activated",
        body(contextWindow=8192),
        entry(body(), active=None),
        {},
        (Action.UPDATE, "byo", None, None, Risk.SAFE),
    ),
    (
        "a name another source serves is held: the plan is refused",
        body(),
        entry(body(), active="serving", sources=("byo", "serving")),
        {},
        (Action.NO_OP, None, None, "serving", Risk.SAFE),
    ),
    (
        "a name another source serves is taken where switch says so",
        body(),
        entry(body(), active="serving", sources=("byo", "serving")),
        {"switch": ("acme:*",)},
        (Action.ACTIVATE, "byo", "serving", None, Risk.BREAKING),
    ),
    (
        "a new model whose name another source serves is defined, and held",
        body(),
        entry(
            body(modelId="platform"),
            source="serving",
            origin=None,
            active="serving",
            sources=("serving",),
        ),
        {},
        (Action.CREATE, None, None, "serving", Risk.SAFE),
    ),
    (
        "a new model takes its name from another source where switch says so",
        body(),
        entry(
            body(modelId="platform"),
            source="cluster",
            origin=None,
            active="cluster",
            sources=("cluster",),
        ),
        {"switch": (CHAT,)},
        (Action.CREATE, "byo", "cluster", None, Risk.BREAKING),
    ),
    (
        "a yaml-origin definition is read-only, but its name is activated",
        body(),
        entry(body(), origin="yaml", active=None),
        {},
        (Action.ACTIVATE, "byo", None, None, Risk.SAFE),
    ),
    (
        "a yaml-origin definition that differs is a conflict and nothing is activated",
        body(contextWindow=1),
        entry(body(), origin="yaml", active=None),
        {},
        (Action.READ_ONLY, None, None, None, Risk.SAFE),
    ),
]


@pytest.mark.parametrize(
    ("want", "have", "options", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_activation_of_a_declared_model(
    want: dict[str, Any],
    have: LiveEntry | None,
    options: dict[str, Any],
    expected: tuple[Action, Any, Any, Any, Risk],
) -> None:
    change = only([declared(want)], [have] if have else [], **options)
    assert (change.action, change.activate, change.deactivate, change.held_by, change.risk) == (
        expected
    )


def test_a_replace_activates_the_name_again() -> None:
    # Deleting a catalog definition deactivates its name.
    change = only([declared(body(contextWindow=2))], [entry(body())], replace=frozenset({CHAT}))
    assert (change.action, change.activate) == (Action.REPLACE, "byo")


def test_a_held_name_is_a_violation_naming_the_holder() -> None:
    live = [entry(body(), active="cluster", sources=("byo", "cluster"))]
    made = judge(build_plan([declared(body())], live, PlanOptions(api="catalog")), Rules(), {})
    assert [(v.rule, v.id) for v in made.violations] == [("name-held", CHAT)]
    assert "served from cluster" in made.violations[0].message
    assert "activation.switch" in made.violations[0].message


PLATFORM = "meetkai:functionary"


def platform(active: str | None, sources: tuple[str, ...] = ("serving",)) -> LiveEntry:
    return entry(body(PLATFORM), source=sources[0], origin=None, active=active, sources=sources)


@pytest.mark.parametrize(
    ("have", "switch", "expected"),
    [
        (platform(None), (), (Action.ACTIVATE, "serving", None, None)),
        (platform("serving"), (), (Action.NO_OP, None, None, None)),
        (platform("cluster", ("serving", "cluster")), (), (Action.NO_OP, None, None, "cluster")),
        (
            platform("cluster", ("serving", "cluster")),
            (PLATFORM,),
            (Action.ACTIVATE, "serving", "cluster", None),
        ),
    ],
    ids=["inactive", "served", "held", "switched"],
)
def test_a_platform_name_is_served_as_the_configuration_asks(
    have: LiveEntry, switch: tuple[str, ...], expected: tuple[Any, ...]
) -> None:
    change = only([], [have], activate=((PLATFORM, "serving"),), switch=switch)
    assert (change.action, change.activate, change.deactivate, change.held_by) == expected
    assert change.file is None


def test_undeclared_names_are_never_deactivated() -> None:
    served = platform("serving")
    other = entry(body("acme:other"))
    changes = plan_of([], [served, other])
    # The byo definition nobody declares is unmanaged; the platform name is not listed.
    assert [(c.id, c.action) for c in changes] == [("acme:other", Action.UNMANAGED)]
    pruned = plan_of([], [served, other], prune=True)
    assert [(c.id, c.action, c.deactivate) for c in pruned] == [("acme:other", Action.DELETE, None)]


def test_activation_problems_name_what_to_fix() -> None:
    problems = activation_problems(
        [declared(body())],
        [platform(None), entry(body())],
        [(CHAT, "serving"), (PLATFORM, "cluster"), ("meetkai:nothing", "serving")],
    )
    assert problems == [
        f"activation.activate: {CHAT} is declared in a model file too; a declared model is "
        "served from its own (byo) definition: remove one of the two",
        f"activation.activate: {PLATFORM} is not defined by cluster in the catalog (it is "
        "defined only from serving); check the name and the source",
        "activation.activate: meetkai:nothing is not defined by serving in the catalog (it "
        "is defined by no source); check the name and the source",
    ]


def catalog_plan() -> Plan:
    live = [
        entry(body("acme:idle"), active=None),
        entry(body("acme:retired")),
        entry(body("acme:taken"), active="serving", sources=("byo", "serving")),
        platform(None),
    ]
    desired = [declared(body("acme:new")), declared(body("acme:idle"))]
    desired += [declared(body("acme:retired")), declared(body("acme:taken"))]
    made = build_plan(
        desired,
        live,
        PlanOptions(
            api="catalog",
            registry="https://catalog.example",
            inactive=("acme:retired",),
            switch=("acme:taken",),
            activate=((PLATFORM, "serving"),),
        ),
    )
    return judge(made, Rules(), {e.id: e.definition for e in live})


def test_the_text_plan_shows_who_serves_each_name() -> None:
    text = render_text(catalog_plan())
    assert "on https://catalog.example (catalog API):" in text
    assert "  < acme:retired will be deactivated [breaking]" in text
    assert "      > stop serving the name: deactivate it from byo" in text
    assert "  > acme:taken will be activated [breaking]" in text
    assert "      > serve the name: deactivate it from serving, then activate it from byo" in text
    assert "  > acme:idle will be activated  (models/acme:idle.yaml:1)" in text
    assert "  > meetkai:functionary will be activated  (not in models/)" in text
    assert "      > serve the name: activate it from serving" in text
    assert "  + acme:new will be created" in text
    assert (
        "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 3 to activate, "
        "1 to deactivate." in text
    )
    # Deactivating first, activating after: the reviewer reads what stops first.
    assert text.index("acme:retired will be") < text.index("acme:taken will be")


def test_the_markdown_plan_names_the_generation_and_the_activations() -> None:
    markdown = render_markdown(catalog_plan())
    assert "Registry `https://catalog.example` (catalog API)" in markdown
    assert "🔽 <code>acme:retired</code> will be deactivated" in markdown
    assert "Serve the name: deactivate it from serving, then activate it from byo." in markdown


def test_the_json_plan_records_the_generation_and_reads_back(tmp_path: Path) -> None:
    made = catalog_plan()
    document = plan_document(made)
    assert document["api"] == "catalog"
    assert document["summary"]["activate"] == 3
    assert document["summary"]["deactivate"] == 1
    taken = next(a for a in document["actions"] if a["id"] == "acme:taken")
    assert (taken["activate"], taken["deactivate"], taken["held_by"]) == ("byo", "serving", None)
    saved = tmp_path / "plan.json"
    saved.write_text(render_json(made), encoding="utf-8")
    read = read_plan(saved, registry="https://catalog.example")
    assert read.api == "catalog"
    assert [(c.id, c.action, c.activate, c.deactivate) for c in read.changes] == [
        (c.id, c.action, c.activate, c.deactivate) for c in made.changes
    ]
    check_generation(read, "catalog", saved)
    with pytest.raises(PlanFileError, match="made for the catalog API, but the registry speaks"):
        check_generation(read, "registry", saved)


def test_a_registry_plan_with_activation_is_corrupt(tmp_path: Path) -> None:
    document = plan_document(catalog_plan())
    document["api"] = "registry"
    saved = tmp_path / "plan.json"
    import json

    saved.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(PlanFileError, match="activation is planned only against the catalog"):
        read_plan(saved, registry="https://catalog.example")


def test_a_registry_plan_reads_as_before() -> None:
    made = build_plan([declared(body())], [], PlanOptions(registry="https://r"))
    document = plan_document(made)
    assert document["api"] == "registry"
    assert "activate" not in document["summary"]
    assert "activate" not in document["actions"][0]
