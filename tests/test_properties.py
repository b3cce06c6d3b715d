"""Property-based tests: generated and mutated YAML files, server JSON and saved plans.

Whatever the input, the answer is a result or one of our errors with a clear message:
never a traceback, never a hang, never the key in any message. Examples are bounded
(``max_examples``) so the suite stays fast.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_sync.apply.preflight import stale_changes, unshown_changes
from registry_sync.desired.loader import DesiredDefinition, load_models
from registry_sync.errors import PlanFileError, RegistryError, ResponseShapeError
from registry_sync.live.client import RegistryClient, RetryPolicy
from registry_sync.live.entries import LiveEntry, parse_list_response
from registry_sync.plan.document import render_json
from registry_sync.plan.planfile import read_plan
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.testing import Fault, RegistryServer, list_response, minimal_definition

KEY = "sk-live-PROPERTY-0123456789abcdef"
BOUNDED = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID = yaml.safe_dump(
    minimal_definition("t:chat", auth={"type": "api-key", "envVar": "K"}), sort_keys=False
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from([KEY, KEY[:9], base64.b64encode(KEY.encode()).decode(), "(sensitive)"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


def assert_clean(message: str) -> None:
    assert message
    assert KEY[:8] not in message and KEY[-8:] not in message


# --- YAML files ---------------------------------------------------------------------------

YAML_PIECES = [
    "id: ",
    "auth: ",
    "&a ",
    "*a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\n",
    "  ",
    "'",
    '"',
    "!!int ",
    "!!python/object ",
    "<<: *a\n",
    "? ",
    "|\n  ",
    "#",
    "---\n",
    "1",
    "true",
    "x",
    "\x00",
    "\t",
    "9" * 50,
    "&b [*b]",
    "\\",
    "%YAML 1.1\n",
]


def load_text(root: Path, text: str) -> None:
    models = root / "models"
    models.mkdir(exist_ok=True)
    (models / "m.yaml").write_text(text, encoding="utf-8")
    result = load_models(models)
    lines = text.count("\n") + 2
    for problem in result.problems:
        assert_clean(problem.message)
        assert 0 <= problem.line <= lines
    for definition in result.definitions:
        assert isinstance(definition.body, dict)


@BOUNDED
@given(pieces=st.lists(st.sampled_from(YAML_PIECES), max_size=40))
def test_any_yaml_text_is_a_result_or_problems(tmp_path: Path, pieces: list[str]) -> None:
    load_text(tmp_path, "".join(pieces))


@BOUNDED
@given(at=st.integers(min_value=0, max_value=len(VALID)), piece=st.sampled_from(YAML_PIECES))
def test_a_valid_file_with_anything_inserted_is_a_result_or_problems(
    tmp_path: Path, at: int, piece: str
) -> None:
    load_text(tmp_path, VALID[:at] + piece + VALID[at:])


@st.composite
def aliased_documents(draw: st.DrawFn) -> str:
    """A definition with extra fields whose values share (and may contain) each other,
    so that the YAML has anchors, aliases and sometimes cycles."""
    shared: list[Any] = [draw(json_values) for _ in range(draw(st.integers(1, 3)))]
    for _ in range(draw(st.integers(0, 6))):
        container = draw(st.sampled_from(shared))
        value = draw(st.sampled_from(shared))
        if isinstance(container, list):
            container.append(value)  # may be the list itself: a cycle
        elif isinstance(container, dict):
            container[draw(st.text(max_size=4))] = value
        shared.append([value, value, value])  # fan-out
    body = yaml.safe_load(VALID)
    body["extra"] = shared
    return yaml.safe_dump(body, sort_keys=False)


@BOUNDED
@given(text=aliased_documents())
def test_anchors_aliases_and_cycles_cost_bounded_time(tmp_path: Path, text: str) -> None:
    load_text(tmp_path, text)


# --- JSON from the server ------------------------------------------------------------------


def entry_json(model_id: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "immutable": False,
        "source": "database",
        "definition": minimal_definition(model_id),
    }


@st.composite
def mutated_lists(draw: st.DrawFn) -> Any:
    document: Any = {"object": "list", "data": [entry_json("t:a"), entry_json("t:b")]}
    for _ in range(draw(st.integers(0, 4))):
        path = draw(
            st.lists(
                st.sampled_from(
                    [
                        "data",
                        0,
                        1,
                        "definition",
                        "id",
                        "object",
                        "immutable",
                        "has_more",
                        "next",
                        "source",
                    ]
                ),
                max_size=4,
            )
        )
        document = replace_at(document, path, draw(json_values))
    return document


def replace_at(document: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict) and isinstance(head, str):
        return {**document, head: replace_at(document.get(head), rest, value)}
    if isinstance(document, list) and isinstance(head, int) and head < len(document):
        return [*document[:head], replace_at(document[head], rest, value), *document[head + 1 :]]
    return document


@BOUNDED
@given(document=st.one_of(mutated_lists(), json_values))
def test_any_list_document_is_entries_or_a_shape_error(document: Any) -> None:
    try:
        entries = parse_list_response(document, "GET /x")
    except ResponseShapeError as exc:
        assert str(exc).startswith("unexpected response from GET /x")
    else:
        assert all(isinstance(entry, LiveEntry) for entry in entries)


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    with RegistryServer(seed=list_response([]), api_key=KEY) as running:
        yield running


@BOUNDED
@given(
    document=st.one_of(mutated_lists(), json_values),
    status=st.sampled_from([None, 400, 401, 404, 500]),
)
def test_any_server_answer_is_entries_or_an_error_without_the_key(
    server: RegistryServer, document: Any, status: int | None
) -> None:
    body = json.dumps(document)
    server.clear_faults()
    if status is None:
        server.inject(Fault("malformed", method="GET", body=body))
    else:
        server.inject(Fault("status", status=status, body=body))
    with RegistryClient(
        server.url, KEY, retry=RetryPolicy(max_elapsed=0), api="registry"
    ) as client:
        try:
            client.list_models()
        except RegistryError as exc:
            assert_clean(str(exc))


# --- saved plans --------------------------------------------------------------------------

LIVE = [
    LiveEntry("t:a", False, "database", minimal_definition("t:a", contextWindow=1)),
    LiveEntry("t:b", False, "database", minimal_definition("t:b", rpm=5)),
    LiveEntry("t:c", True, "yaml", minimal_definition("t:c")),
    LiveEntry("t:d", False, "database", minimal_definition("t:d")),
]
DESIRED = [
    DesiredDefinition("t:a", minimal_definition("t:a", contextWindow=2), "models/a.yaml", 1),
    DesiredDefinition("t:b", minimal_definition("t:b"), "models/b.yaml", 1),
    DesiredDefinition("t:c", minimal_definition("t:c"), "models/c.yaml", 1),
    DesiredDefinition("t:e", minimal_definition("t:e"), "models/e.yaml", 1),
]
PLAN = json.loads(
    render_json(build_plan(DESIRED, LIVE, PlanOptions(prune=True, registry="https://r")))
)
PLAN_KEYS = [
    "actions",
    0,
    1,
    2,
    3,
    4,
    "action",
    "patch",
    "body",
    "changes",
    "id",
    "contextWindow",
    "baseUrl",
    "summary",
    "live_fingerprint",
    "before",
    "after",
]


@BOUNDED
@given(
    edits=st.lists(
        st.tuples(st.lists(st.sampled_from(PLAN_KEYS), min_size=1, max_size=5), json_values),
        max_size=3,
    )
)
def test_any_edited_plan_is_refused_or_does_only_what_it_shows(
    tmp_path: Path, edits: list[tuple[list[Any], Any]]
) -> None:
    document: Any = PLAN
    for path, value in edits:
        document = replace_at(document, path, value)
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    try:
        plan = read_plan(saved, registry="https://r")
    except PlanFileError as exc:
        assert_clean(str(exc))
        return
    reasons = stale_changes(plan, LIVE) + unshown_changes(plan, LIVE)
    if reasons:
        return  # apply refuses the whole plan
    by_id = {entry.id: entry for entry in LIVE}
    for change in plan.writes:
        entry = by_id.get(change.id)
        assert entry is None or not entry.immutable
        if change.patch is not None and entry is not None:
            # Every field the patch sets is one the plan shows changing.
            shown = {item.path.split(".")[0].split("[")[0] for item in change.changes}
            assert {
                key for key, value in change.patch.items() if entry.definition.get(key) != value
            } <= shown
