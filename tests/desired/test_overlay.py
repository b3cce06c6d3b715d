"""Overlays, variables and owns: the definitions one environment gets, and where
every value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_sync.desired.loader import LoadResult, load_models
from registry_sync.desired.overlay import effective_definitions
from registry_sync.errors import ConfigError
from registry_sync.live.entries import LiveEntry
from registry_sync.plan.origins import point_at_origins
from registry_sync.plan.planner import PlanOptions, build_plan
from registry_sync.settings.config import ProjectConfig, load_config

BASE = (
    "id: acme:chat\n"
    "provider: openai-compatible\n"
    "modelId: chat-v1\n"
    "apiFormat: responses\n"
    "baseUrl: https://api.example.com/v1\n"
    "auth: {type: none}\n"
    "capabilities:\n"
    "  modalities: {input: [text], output: [text]}\n"
    "  reasoning: false\n"
    "contextWindow: 8192\n"
    "displayName: chat in ${region}\n"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "models/chat.yaml", BASE)
    write(tmp_path / "models/embed.yaml", BASE.replace("acme:chat", "acme:embed"))
    write(
        tmp_path / "registry-sync.yaml",
        "owns: ['acme:*']\n"
        "environments:\n"
        "  staging:\n"
        "    api_url: https://staging.example.com\n"
        "    api_key_env: MKA1_STAGING_API_KEY\n"
        "    overlay: overlays/staging\n"
        "    vars: {region: eu}\n",
    )
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def staging() -> ProjectConfig:
    return load_config(Path("registry-sync.yaml")).select("staging")


def effective() -> LoadResult:
    return effective_definitions(load_models(Path("models")), staging())


def test_an_overlay_merges_by_key_replaces_lists_and_removes_nulls(repo: Path) -> None:
    write(
        repo / "overlays/staging/chat.yaml",
        "id: acme:chat\n"
        "contextWindow: 4096\n"
        "capabilities:\n"
        "  modalities: {input: [text, image]}\n"
        "baseUrl: null\n",
    )

    result = effective()

    assert [str(problem) for problem in result.problems] == []
    chat = {d.id: d for d in result.definitions}["acme:chat"]
    assert chat.body["contextWindow"] == 4096
    assert chat.body["capabilities"] == {
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "reasoning": False,
    }
    assert "baseUrl" not in chat.body
    assert chat.body["displayName"] == "chat in eu"
    assert (chat.file, chat.line) == ("models/chat.yaml", 1)
    assert result.files == 3


def test_new_definitions_and_excludes(repo: Path) -> None:
    write(
        repo / "overlays/staging/more.yaml",
        BASE.replace("acme:chat", "acme:canary") + "---\nexclude: [acme:embed]\n",
    )

    result = effective()

    assert [d.id for d in result.definitions] == ["acme:canary", "acme:chat"]
    canary = result.definitions[0]
    assert (canary.file, canary.line) == ("overlays/staging/more.yaml", 1)


def test_overlay_problems_point_at_the_overlay_line(repo: Path) -> None:
    write(
        repo / "overlays/staging/chat.yaml",
        "id: acme:chat\n# the staging window\nhidden: sometimes\ndisplayName: ${missing}\n",
    )
    write(repo / "overlays/staging/x.yaml", "exclude: [acme:nothing]\n---\n- a list\n")
    write(repo / "overlays/staging/theirs.yaml", BASE.replace("acme:chat", "meetkai:chat"))

    problems = [str(problem) for problem in effective().errors]

    assert problems == [
        "overlays/staging/chat.yaml:3: hidden: expected a boolean, got 'sometimes'",
        "overlays/staging/chat.yaml:4: displayName: ${missing} is not defined: add it to "
        "vars: of this environment in registry-sync.yaml (the process environment is never "
        "read)",
        "overlays/staging/theirs.yaml:1: id: 'meetkai:chat' is outside owns: [acme:*] of "
        "registry-sync.yaml; another team's id, or add a pattern for it to owns",
        "overlays/staging/x.yaml:1: exclude[0]: exclude: 'acme:nothing' is not declared in "
        "models/; remove it from the list",
        "overlays/staging/x.yaml:3: expected a mapping with an id (changes to that "
        "definition, or a new one) or a mapping with only exclude: [ids]",
    ]


def test_an_undefined_variable_in_models_is_an_error_at_its_line(repo: Path) -> None:
    (repo / "overlays/staging").mkdir(parents=True)
    write(
        repo / "models/embed.yaml",
        BASE.replace("${region}", "${zone}").replace("acme:chat", "acme:embed"),
    )

    problems = [str(problem) for problem in effective().errors]

    assert problems == [
        "models/embed.yaml:11: displayName: ${zone} is not defined: add it to vars: of this "
        "environment in registry-sync.yaml (the process environment is never read)"
    ]


def test_without_an_environment_nothing_is_merged_but_owns_is_checked(repo: Path) -> None:
    write(repo / "overlays/staging/chat.yaml", "id: acme:chat\ncontextWindow: 4096\n")
    base = load_models(Path("models"))
    config = load_config(Path("registry-sync.yaml"))

    assert effective_definitions(base, ProjectConfig()) is base
    assert effective_definitions(base, config).definitions == base.definitions
    write(repo / "models/theirs.yaml", BASE.replace("acme:chat", "meetkai:chat"))
    owned = effective_definitions(load_models(Path("models")), config)
    assert [problem.file for problem in owned.errors] == ["models/theirs.yaml"]


def test_a_missing_overlay_folder_says_what_to_do(repo: Path) -> None:
    with pytest.raises(
        ConfigError,
        match="overlay overlays/staging of environment staging is not a folder; create it",
    ):
        effective()


def test_plan_lines_point_at_the_overlay_that_set_the_value(repo: Path) -> None:
    write(repo / "overlays/staging/chat.yaml", "id: acme:chat\n\ncontextWindow: 4096\n")
    result = effective()
    chat = {d.id: d for d in load_models(Path("models")).definitions}["acme:chat"]
    live_body = {**chat.body, "displayName": "chat in eu", "created": 1}
    live = [LiveEntry(id="acme:chat", definition=live_body, immutable=False, source="api")]

    plan = point_at_origins(build_plan(result.definitions, live, PlanOptions()), result.definitions)

    change = plan.changes[0]
    assert (change.file, change.line) == ("models/chat.yaml", 1)
    assert [(item.path, item.origin) for item in change.changes] == [
        ("contextWindow", "overlays/staging/chat.yaml:3")
    ]


def test_a_variable_that_makes_a_url_leaves_no_stale_warning(repo: Path) -> None:
    write(
        repo / "models/chat.yaml",
        BASE.replace("https://api.example.com/v1", "${gateway}/v1").replace(
            "displayName: chat in ${region}\n", ""
        ),
    )
    write(
        repo / "registry-sync.yaml",
        "environments:\n"
        "  staging:\n"
        "    api_url: https://staging.example.com\n"
        "    api_key_env: MKA1_STAGING_API_KEY\n"
        "    vars: {region: eu, gateway: 'https://gw.example.com'}\n",
    )
    base = load_models(Path("models"))
    # Without the environment the file's `${gateway}/v1` is no URL: a warning at its line.
    assert [str(p) for p in base.warnings] == [
        "models/chat.yaml:5: baseUrl: warning: should be an http:// or https:// URL"
    ]

    result = effective_definitions(base, staging())

    assert [str(problem) for problem in result.problems] == []
    chat = {d.id: d for d in result.definitions}["acme:chat"]
    assert chat.body["baseUrl"] == "https://gw.example.com/v1"


def test_a_variable_that_makes_a_bad_url_is_an_error_not_a_warning(repo: Path) -> None:
    write(repo / "models/chat.yaml", BASE.replace("https://api.example.com/v1", "${gateway}"))
    write(
        repo / "registry-sync.yaml",
        "environments:\n"
        "  staging:\n"
        "    api_url: https://staging.example.com\n"
        "    api_key_env: MKA1_STAGING_API_KEY\n"
        "    vars: {region: eu, gateway: 'not a url'}\n",
    )
    result = effective()
    assert [str(p) for p in result.problems] == [
        "models/chat.yaml:5: baseUrl: should be an http:// or https:// URL (once its "
        "variables are replaced)"
    ]
    assert "acme:chat" not in {d.id for d in result.definitions}


# -- ${NAME} in an id (issue 23, item 2) ---------------------------------------------------


def _with_vars(repo: Path, variables: str) -> None:
    write(
        repo / "registry-sync.yaml",
        "environments:\n"
        "  staging:\n"
        "    api_url: https://staging.example.com\n"
        "    api_key_env: MKA1_STAGING_API_KEY\n"
        "    overlay: overlays/staging\n"
        f"    vars: {variables}\n",
    )
    (repo / "overlays/staging").mkdir(parents=True, exist_ok=True)


def test_a_variable_in_an_id_is_replaced_before_anything_reads_the_id(repo: Path) -> None:
    _with_vars(repo, "{region: eu, tier: prod}")
    write(repo / "models/chat.yaml", BASE.replace("id: acme:chat", "id: acme:chat-${tier}"))
    write(repo / "overlays/staging/chat.yaml", "id: acme:chat-${tier}\ncontextWindow: 4096\n")
    write(repo / "overlays/staging/x.yaml", "exclude: ['acme:${region}-none']\n")

    result = effective()

    assert [str(p) for p in result.problems] == [
        "overlays/staging/x.yaml:1: exclude[0]: exclude: 'acme:eu-none' is not declared in "
        "models/; remove it from the list"
    ]
    chat = {d.id: d for d in result.definitions}["acme:chat-prod"]
    assert (chat.body["id"], chat.body["contextWindow"]) == ("acme:chat-prod", 4096)
    assert chat.origins is not None and "contextWindow" in chat.origins


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            "{region: eu}",
            "${tier} is not defined: add it to vars: of this environment in "
            "registry-sync.yaml (the process environment is never read)",
        ),
        (
            '{region: eu, tier: "a\\nb"}',
            "${tier} holds a control character (a line break, a tab, an escape); vars: "
            "values are one line of text",
        ),
        (
            "{region: eu, tier: 'a b'}",
            "once its variables are replaced, the id should hold no whitespace, control or "
            "invisible format character, but character 12 is U+0020",
        ),
        ("{region: eu, tier: ''}", None),
    ],
)
def test_an_id_that_cannot_be_replaced_is_an_error_at_its_line(
    repo: Path, variables: str, message: str | None
) -> None:
    _with_vars(repo, variables)
    write(repo / "models/chat.yaml", BASE.replace("id: acme:chat", "id: acme:chat-${tier}"))

    result = effective()

    if message is None:  # '' makes 'acme:chat-', a valid id
        assert "acme:chat-" in {d.id for d in result.definitions}
        return
    assert [str(p) for p in result.errors] == [f"models/chat.yaml:1: id: {message}"]
    assert [d.id for d in result.definitions] == ["acme:embed"]


def test_a_variable_holding_a_line_break_in_any_value_is_an_error(repo: Path) -> None:
    _with_vars(repo, '{region: "eu\\nPlan: 0 to create"}')

    result = effective()

    assert [str(p) for p in result.errors] == [
        f"models/{name}.yaml:11: displayName: ${{region}} holds a control character (a line "
        "break, a tab, an escape); vars: values are one line of text"
        for name in ("chat", "embed")
    ]


def test_two_ids_the_same_once_replaced_are_both_errors(repo: Path) -> None:
    _with_vars(repo, "{region: eu, tier: embed}")
    write(repo / "models/chat.yaml", BASE.replace("id: acme:chat", "id: acme:${tier}"))

    result = effective()

    places = "declared at models/chat.yaml:1 and at models/embed.yaml:1"
    assert [str(p) for p in result.errors] == [
        f"models/{name}.yaml:1: id: duplicate id 'acme:embed' once variables are replaced: {places}"
        for name in ("chat", "embed")
    ]
    assert result.definitions == ()


def test_without_an_environment_a_variable_in_an_id_is_an_error(repo: Path) -> None:
    write(repo / "models/chat.yaml", BASE.replace("id: acme:chat", "id: acme:chat-${tier}"))
    write(repo / "registry-sync.yaml", "owns: ['acme:*']\n")

    result = effective_definitions(
        load_models(Path("models")), load_config(Path("registry-sync.yaml"))
    )

    assert [str(p) for p in result.errors] == [
        "models/chat.yaml:1: id: ${tier} in an id is replaced only by an environment's vars:, "
        "and no environment is selected: select one (--env NAME), or write the id out"
    ]
    assert [d.id for d in result.definitions] == ["acme:embed"]
