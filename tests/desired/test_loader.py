"""models/ folder -> desired definitions: every rule a test, every problem with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from paths import DATA, ROOT

from registry_sync.desired.loader import (
    DesiredDefinition,
    LoadResult,
    check_reroute_targets,
    line_of,
    load_models,
)
from registry_sync.errors import ConfigError
from registry_sync.schema.server import SERVER_OWNED_FIELDS
from registry_sync.testing import MINIMAL_MODEL_YAML

SECRET_MESSAGE = (
    "inline secret; secrets come only as environment variable names "
    "(auth.envVar / auth.envVars), never as values in models/"
)

# Line 7 is capabilities.reasoning, as in the example of the loader's contract.
BASE = MINIMAL_MODEL_YAML


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> LoadResult:
    """Write ``files`` below tmp_path/models and load them with tmp_path as cwd."""
    for name, text in files.items():
        path = tmp_path / "models" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return load_models(Path("models"))


def messages(result: LoadResult) -> list[str]:
    return [str(problem) for problem in result.problems]


# --- one rule per case: (name, files, exact problems) ---------------------------------

CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "bad boolean",
        {"chat.yaml": BASE.replace("reasoning: true", "reasoning: yes")},
        ["models/chat.yaml:7: capabilities.reasoning: expected a boolean, got 'yes'"],
    ),
    (
        "quoted integer",
        {"chat.yaml": BASE + "contextWindow: '128000'\n"},
        ["models/chat.yaml:11: contextWindow: expected an integer, got '128000'"],
    ),
    (
        "boolean is not an integer",
        {"chat.yaml": BASE + "rpm: true\n"},
        ["models/chat.yaml:11: rpm: expected an integer, got true"],
    ),
    (
        "non-positive integer",
        {"chat.yaml": BASE + "concurrency: {max: 0}\n"},
        ["models/chat.yaml:11: concurrency.max: warning: should be at least 1, got 0"],
    ),
    (
        "number out of range",
        {"chat.yaml": BASE + "defaultParams:\n  topP: 1.5\n"},
        ["models/chat.yaml:12: defaultParams.topP: warning: should be at most 1, got 1.5"],
    ),
    (
        "not a finite number",
        {"chat.yaml": BASE + "defaultParams: {temperature: .nan}\n"},
        ["models/chat.yaml:11: defaultParams.temperature: expected a finite number, got nan"],
    ),
    (
        "bad enum in a list",
        {"chat.yaml": BASE.replace("input: [text]", "input: [text, smell]")},
        [
            "models/chat.yaml:6: capabilities.modalities.input[1]: "
            "expected one of 'text', 'image', 'audio', 'video', got 'smell'"
        ],
    ),
    (
        "bad enum field",
        {"chat.yaml": BASE + "apiProviderType: openai-compatible\n"},
        [
            "models/chat.yaml:11: apiProviderType: expected one of 'groq', 'azure', "
            "'meetkai', 'meetkaiGateway', 'fal', 'openai', got 'openai-compatible'"
        ],
    ),
    (
        "unknown key with a suggestion",
        {"chat.yaml": BASE.replace("modelId:", "modelID:")},
        [
            "models/chat.yaml:1: modelId: missing required field",
            "models/chat.yaml:3: modelID: unknown field; did you mean 'modelId'?",
        ],
    ),
    (
        "unknown nested key, suggestion from that object's keys",
        {"chat.yaml": BASE + "healthCheck:\n  mode: preflight\n  path: /h\n  timeout: 5\n"},
        ["models/chat.yaml:14: healthCheck.timeout: unknown field; did you mean 'timeoutMs'?"],
    ),
    (
        "unknown key without a close match lists a small object's keys",
        {"chat.yaml": BASE + "concurrency: {max: 2, burst: 4}\n"},
        [
            "models/chat.yaml:11: concurrency.burst: "
            "unknown field; expected one of 'max', 'maxWaitMs'"
        ],
    ),
    (
        "missing required field, at the line of the enclosing mapping",
        {"chat.yaml": BASE.replace("  reasoning: true\n", "")},
        ["models/chat.yaml:5: capabilities.reasoning: missing required field"],
    ),
    (
        "missing required top-level field, at the document's line",
        {"chat.yaml": "# a comment\n" + BASE.replace("provider: openai-compatible\n", "")},
        ["models/chat.yaml:2: provider: missing required field"],
    ),
    (
        "missing union tag",
        {"chat.yaml": BASE + "rerouteRules:\n  - trigger: {}\n    targetModelId: x:y\n"},
        ["models/chat.yaml:12: rerouteRules[0].trigger.type: missing required field"],
    ),
    (
        "input-modality trigger requires its modality",
        {
            "chat.yaml": BASE
            + "rerouteRules:\n  - trigger: {type: input-modality}\n    targetModelId: x:y\n"
        },
        ["models/chat.yaml:12: rerouteRules[0].trigger.modality: missing required field"],
    ),
    (
        "wrong union tag",
        {"chat.yaml": BASE + "rerouteRules:\n  - trigger: {type: always}\n    targetModelId: x\n"},
        [
            "models/chat.yaml:12: rerouteRules[0].trigger.type: expected one of "
            "'input-modality', 'base64-input', 'context-exceeded', 'error-fallback', got 'always'"
        ],
    ),
    (
        "null on an optional field is the field left out, with a warning",
        {"chat.yaml": BASE + "displayName:\ndefaultParams:\n  topP:\n"},
        [
            "models/chat.yaml:11: displayName: warning: null reads as the field left out; "
            "remove the line",
            "models/chat.yaml:13: defaultParams.topP: warning: null reads as the field left "
            "out; remove the line",
        ],
    ),
    (
        "null on a required field is a missing field",
        {"chat.yaml": BASE.replace("provider: openai-compatible", "provider: null")},
        [
            "models/chat.yaml:2: provider: missing required field",
            "models/chat.yaml:2: provider: warning: null reads as the field left out; "
            "remove the line",
        ],
    ),
    (
        "empty string",
        {"chat.yaml": BASE.replace("provider: openai-compatible", "provider: ''")},
        ["models/chat.yaml:2: provider: warning: should not be empty"],
    ),
    (
        "id with whitespace",
        {"chat.yaml": BASE.replace("id: meetkai:chat", "id: meetkai chat")},
        [
            "models/chat.yaml:1: id: should hold no whitespace, control or invisible format "
            "character, but character 8 is U+0020"
        ],
    ),
    (
        "created in milliseconds",
        {"chat.yaml": BASE + "created: 1704067200000\n"},
        [
            "models/chat.yaml:11: created: warning: 1704067200000 looks like epoch milliseconds; "
            "use epoch seconds (1704067200)"
        ],
    ),
    (
        "a date is a string, not epoch seconds",
        {"chat.yaml": BASE + "created: 2024-01-01\n"},
        ["models/chat.yaml:11: created: expected an integer, got '2024-01-01'"],
    ),
    (
        "baseUrl must be http(s), and is never echoed",
        {"chat.yaml": BASE + "baseUrl: ftp://files.example.com\n"},
        ["models/chat.yaml:11: baseUrl: warning: should be an http:// or https:// URL"],
    ),
    (
        "auth that is not a mapping is never echoed",
        {"chat.yaml": BASE.replace("  type: api-key\n  envVar: CHAT_API_KEY\n", "  sk-0123\n")},
        ["models/chat.yaml:8: auth: expected a mapping"],
    ),
    (
        "auth type",
        {"chat.yaml": BASE.replace("type: api-key", "type: bearer")},
        [
            "models/chat.yaml:9: auth.type: expected one of "
            "'api-key', 'custom-headers', 'none', 'composite'"
        ],
    ),
    (
        "envVar must name an environment variable",
        {"chat.yaml": BASE.replace("envVar: CHAT_API_KEY", "envVar: chat-api-key")},
        [
            "models/chat.yaml:10: auth.envVar: warning: should be an environment variable name "
            "(letters, digits and '_', not starting with a digit)"
        ],
    ),
    (
        "composite needs strategies",
        {
            "chat.yaml": BASE.replace(
                "  type: api-key\n  envVar: CHAT_API_KEY\n", "  type: composite\n  strategies: []\n"
            )
        },
        ["models/chat.yaml:10: auth.strategies: warning: should not be empty"],
    ),
    (
        "embedding dimensions: integer or an ordered range",
        {
            "a.yaml": BASE + "embeddingLimits: {dimensions: '768'}\n",
            "b.yaml": BASE.replace("meetkai:chat", "meetkai:b")
            + "embeddingLimits:\n  dimensions: {min: 512, max: 256, default: 384}\n",
        },
        [
            "models/a.yaml:11: embeddingLimits.dimensions: expected an integer, got '768'",
            "models/b.yaml:12: embeddingLimits.dimensions: warning: "
            "expected min <= default <= max, got min 512, default 384, max 256",
        ],
    ),
    (
        "healthCheck mode",
        {"chat.yaml": BASE + "healthCheck:\n  mode: sometimes\n"},
        [
            "models/chat.yaml:12: healthCheck.mode: "
            "expected one of 'off', 'preflight', 'periodic', got 'sometimes'"
        ],
    ),
    (
        "healthCheck of neither form",
        {"chat.yaml": BASE + "healthCheck: {path: /health}\n"},
        [
            "models/chat.yaml:11: healthCheck: missing required field 'mode' "
            "(one of 'off', 'preflight', 'periodic'); or give 'url' and 'method'"
        ],
    ),
    (
        "periodic healthCheck needs its interval",
        {"chat.yaml": BASE + "healthCheck:\n  mode: periodic\n  path: /health\n"},
        ["models/chat.yaml:11: healthCheck.intervalSeconds: missing required field"],
    ),
    (
        "document that is not a mapping",
        {"chat.yaml": "- id: meetkai:chat\n"},
        ["models/chat.yaml:1: expected a mapping of definition fields, got a list"],
    ),
    (
        "unknown tag",
        {"chat.yaml": BASE + "displayName: !vault chat\n"},
        ["models/chat.yaml:11: YAML error: could not determine a constructor for the tag '!vault'"],
    ),
    (
        "duplicate key, naming both lines",
        {"chat.yaml": BASE + "modelId: chat-v2\n"},
        [
            "models/chat.yaml:11: modelId: "
            "duplicate key: first at line 3, again at line 11; keep one"
        ],
    ),
    (
        "duplicate nested key",
        {
            "chat.yaml": BASE.replace(
                "  reasoning: true\n", "  reasoning: true\n  reasoning: false\n"
            )
        },
        [
            "models/chat.yaml:8: capabilities.reasoning: "
            "duplicate key: first at line 7, again at line 8; keep one"
        ],
    ),
    (
        "duplicate id across files, naming both places",
        {"a.yaml": BASE, "b/c.yaml": "# same id\n" + BASE},
        [
            "models/b/c.yaml:2: id: duplicate id 'meetkai:chat': "
            "declared at models/a.yaml:1 and at models/b/c.yaml:2"
        ],
    ),
    (
        "duplicate id in one file",
        {"a.yaml": BASE + "---\n" + BASE},
        [
            "models/a.yaml:12: id: duplicate id 'meetkai:chat': "
            "declared at models/a.yaml:1 and at models/a.yaml:12"
        ],
    ),
    (
        "pasted API entry",
        {"chat.yaml": "definition:\n" + "".join("  " + line + "\n" for line in BASE.splitlines())},
        [
            "models/chat.yaml:1: apiFormat: missing required field",
            "models/chat.yaml:1: auth: missing required field",
            "models/chat.yaml:1: capabilities: missing required field",
            "models/chat.yaml:1: definition: unknown field; this looks like a registry entry as "
            "the API returns it: declare the fields of its definition at the top level",
            "models/chat.yaml:1: id: missing required field",
            "models/chat.yaml:1: modelId: missing required field",
            "models/chat.yaml:1: provider: missing required field",
        ],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_rule_reports_exact_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], expected: list[str]
) -> None:
    result = load(tmp_path, monkeypatch, files)
    assert messages(result) == expected
    assert result.files == len(files)


def test_syntax_error_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE + "rateLimits:\n  - scope: org\n   rpm: 5\n"
    result = load(tmp_path, monkeypatch, {"chat.yaml": text})
    # The wording is libyaml's (or PyYAML's without it): only the prefix is ours.
    (message,) = messages(result)
    assert message.startswith("models/chat.yaml:13: YAML syntax error: ")


def test_a_null_key_with_a_null_value_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "? " is a mapping {null: null}: the null-means-absent warning must not trip on it.
    result = load(tmp_path, monkeypatch, {"odd.yaml": "? \n"})
    assert result.definitions == ()
    assert result.errors
    assert all(problem.file == "models/odd.yaml" for problem in result.problems)


@pytest.mark.parametrize("field", SERVER_OWNED_FIELDS)
def test_every_server_owned_field_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    result = load(tmp_path, monkeypatch, {"chat.yaml": BASE + f"{field}: 1\n"})
    assert messages(result) == [f"models/chat.yaml:11: {field}: server-owned field; remove it"]
    assert result.definitions == ()


SECRET = "sk-live-0123456789abcdefghijklmn"

SECRET_CASES: list[tuple[str, str, str]] = [
    (
        "auth.value",
        BASE.replace("envVar: CHAT_API_KEY", f"envVar: CHAT_API_KEY\n  value: {SECRET}"),
        f"models/chat.yaml:11: auth.value: {SECRET_MESSAGE}",
    ),
    (
        "auth.value instead of envVar, of the wrong type",
        BASE.replace("envVar: CHAT_API_KEY", "value: 123456789012345"),
        f"models/chat.yaml:10: auth.value: {SECRET_MESSAGE}",
    ),
    (
        "value inside a composite strategy",
        BASE.replace(
            "  type: api-key\n  envVar: CHAT_API_KEY\n",
            "  type: composite\n  strategies:\n    - type: none\n"
            f"    - type: api-key\n      envVar: K\n      value: {SECRET}\n",
        ),
        f"models/chat.yaml:14: auth.strategies[1].value: {SECRET_MESSAGE}",
    ),
    (
        "credential header by name",
        BASE.replace(
            "  type: api-key\n  envVar: CHAT_API_KEY\n",
            f"  type: custom-headers\n  headers:\n    X-Api-Key: {SECRET}\n",
        ),
        f"models/chat.yaml:11: auth.headers.X-Api-Key: {SECRET_MESSAGE}",
    ),
    (
        "credential header by value",
        BASE.replace(
            "  type: api-key\n  envVar: CHAT_API_KEY\n",
            f"  type: custom-headers\n  headers:\n    X-Upstream: Bearer {SECRET}\n",
        ),
        f"models/chat.yaml:11: auth.headers.X-Upstream: {SECRET_MESSAGE}",
    ),
    (
        "baseUrl with user:pass",
        BASE + f"baseUrl: https://admin:{SECRET}@llm.example.com/v1\n",
        f"models/chat.yaml:11: baseUrl: {SECRET_MESSAGE}",
    ),
    (
        "baseUrl with user:pass and a wrong scheme: both said, neither echoes",
        BASE + f"baseUrl: ftp://admin:{SECRET}@llm.example.com\n",
        "models/chat.yaml:11: baseUrl: warning: should be an http:// or https:// URL",
    ),
    (
        "healthCheck url with credentials",
        BASE + f"healthCheck: {{url: 'https://u:{SECRET}@h.example.com/health'}}\n",
        f"models/chat.yaml:11: healthCheck.url: {SECRET_MESSAGE}",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in SECRET_CASES], ids=[c[0] for c in SECRET_CASES]
)
def test_inline_secrets_are_rejected_and_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    result = load(tmp_path, monkeypatch, {"chat.yaml": text})
    assert expected in messages(result)
    assert result.definitions == ()
    for message in messages(result):
        assert SECRET not in message
        assert "123456789012345" not in message


def test_secret_in_a_broken_auth_is_not_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BASE.replace("type: api-key", "type: Bearer").replace(
        "envVar: CHAT_API_KEY", f"envVar: {SECRET}\n  headers: {{X: {SECRET}}}"
    )
    result = load(tmp_path, monkeypatch, {"chat.yaml": text})
    assert result.problems
    assert not any(SECRET in message for message in messages(result))


# --- files and folders ------------------------------------------------------------------


def test_valid_folder_multi_document_recursive_yml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    result = load_models(Path("valid"))
    # The {url, method} health check of chat-b is a warning, and so is its apiFormat
    # the API does not document: it stays valid.
    assert result.errors == ()
    assert [str(problem) for problem in result.warnings] == [
        "valid/chat.yaml:21: apiFormat: warning: 'my-own-format' is not a value the API "
        "documents (responses, completions, embeddings, images, transcriptions, tts). Other "
        "values are sent as they are",
        "valid/chat.yaml:39: healthCheck: warning: the older {url, method} form: the registry "
        "may hold it, but the API accepts only 'mode: off', 'mode: preflight' or 'mode: "
        "periodic' in a write, so this entry cannot be created or have its healthCheck "
        "changed; move it to a mode form",
    ]
    assert [(d.id, d.file, d.line) for d in result.definitions] == [
        ("test:chat-a", "valid/chat.yaml", 2),
        ("test:chat-b", "valid/chat.yaml", 18),
        ("test:embed", "valid/nested/deeper/embed.yml", 1),
    ]
    assert result.notes == ("valid/empty.yaml: empty file, skipped",)
    assert result.files == 3  # README.txt is not a model file


def test_body_is_the_mapping_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    chat_b = load_models(Path("valid")).definitions[1]
    assert list(chat_b.body) == [
        "id", "provider", "modelId", "apiFormat", "apiProviderType", "created", "auth",
        "capabilities", "defaultParams", "healthCheck",
    ]  # fmt: skip
    assert chat_b.body["modelId"] == "2024-05-13"
    assert chat_b.body["defaultParams"] == {"temperature": 1, "topP": 0.9}
    assert chat_b.body["healthCheck"] == {
        "url": "https://chat-b.example.com/health",
        "method": "GET",
    }


def test_yaml_1_2_booleans_leave_yes_and_no_as_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(DATA)
    chat_a = load_models(Path("valid")).definitions[0]
    assert chat_a.body["displayName"] == "no"
    assert chat_a.body["capabilities"]["supportsTemperature"] is True


def test_all_problems_of_all_files_in_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    result = load_models(Path("broken"))
    syntax, *others = messages(result)
    assert syntax.startswith("broken/a-syntax.yaml:4: YAML syntax error: ")
    assert others == [
        "broken/b-types.yaml:1: modelId: missing required field",
        "broken/b-types.yaml:3: modelID: unknown field; did you mean 'modelId'?",
        "broken/b-types.yaml:10: capabilities.modalities.input[1]: "
        "expected one of 'text', 'image', 'audio', 'video', got 'smell'",
        "broken/b-types.yaml:12: capabilities.reasoning: expected a boolean, got 'yes'",
        "broken/b-types.yaml:13: contextWindow: expected an integer, got '128000'",
        "broken/b-types.yaml:14: rpm: warning: should be at least 1, got 0",
        "broken/b-types.yaml:15: created: warning: 1704067200000 looks like epoch milliseconds; "
        "use epoch seconds (1704067200)",
        "broken/b-types.yaml:17: rateLimits[0].scope: expected one of "
        "'global', 'org', 'user', 'apiKey', 'externalUser', got 'planet'",
        "broken/b-types.yaml:20: rerouteRules[0].trigger.modality: missing required field",
        "broken/b-types.yaml:23: healthCheck.mode: "
        "expected one of 'off', 'preflight', 'periodic', got 'sometimes'",
        f"broken/c-secrets.yaml:4: baseUrl: {SECRET_MESSAGE}",
        f"broken/c-secrets.yaml:11: auth.strategies[0].value: {SECRET_MESSAGE}",
        f"broken/c-secrets.yaml:14: auth.strategies[1].headers.Authorization: {SECRET_MESSAGE}",
        "broken/d-latin1.yaml:2: not UTF-8 text (byte 0xe9); save it as UTF-8",
        "broken/sub/e-owned.yaml:1: id: duplicate id 'test:types': "
        "declared at broken/b-types.yaml:1 and at broken/sub/e-owned.yaml:1",
        "broken/sub/e-owned.yaml:3: provider: "
        "duplicate key: first at line 2, again at line 3; keep one",
        "broken/sub/e-owned.yaml:7: capabilities.reasoning: missing required field",
        "broken/sub/e-owned.yaml:9: source: server-owned field; remove it",
        "broken/sub/e-owned.yaml:10: immutable: server-owned field; remove it",
        "broken/sub/e-owned.yaml:11: health: server-owned field; remove it",
        "broken/sub/e-owned.yaml:12: created_at: server-owned field; remove it",
        "broken/sub/e-owned.yaml:13: updated_at: server-owned field; remove it",
        "broken/sub/e-owned.yaml:15: expected a mapping of definition fields, got a list",
    ]
    assert result.definitions == ()
    assert result.files == 5
    text = "\n".join(messages(result))
    for secret in ("hunter2-pw", "sk-live-0123456789abcdefghij", "abcdef0123456789"):
        assert secret not in text
    assert "pydantic" not in text


def test_empty_file_is_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = load(tmp_path, monkeypatch, {"empty.yaml": "", "blank.yml": "\n# later\n---\n"})
    assert result.problems == ()
    assert result.definitions == ()
    assert result.notes == (
        "models/blank.yml: empty file, skipped",
        "models/empty.yaml: empty file, skipped",
    )
    assert result.files == 2


def test_empty_documents_beside_a_definition_are_skipped_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"chat.yaml": "---\n" + BASE + "---\n"})
    assert result.problems == ()
    assert result.notes == ()
    assert [(d.id, d.line) for d in result.definitions] == [("meetkai:chat", 2)]


def test_merge_keys_may_be_overridden_without_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BASE + (
        "rateLimits:\n  - &org {scope: org, rpm: 60}\n  - <<: *org\n    rpm: 120\n    scope: user\n"
    )
    result = load(tmp_path, monkeypatch, {"chat.yaml": text})
    assert result.problems == ()
    assert result.definitions[0].body["rateLimits"] == [
        {"scope": "org", "rpm": 60},
        {"scope": "user", "rpm": 120},
    ]


def test_problem_inside_a_merged_mapping_points_at_its_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BASE + ("x-defaults: &limits {scope: planet, rpm: 60}\nrateLimits:\n  - <<: *limits\n")
    result = load(tmp_path, monkeypatch, {"chat.yaml": text})
    assert messages(result) == [
        "models/chat.yaml:11: rateLimits[0].scope: expected one of "
        "'global', 'org', 'user', 'apiKey', 'externalUser', got 'planet'",
        "models/chat.yaml:11: x-defaults: unknown field; did you mean 'defaultParams'?",
    ]


def test_non_utf8_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "latin1.yaml").write_bytes(b"id: a\nprovider: caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    result = load_models(Path("models"))
    assert messages(result) == [
        "models/latin1.yaml:2: not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "chat.yaml").write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    monkeypatch.chdir(tmp_path)
    assert load_models(Path("models")).problems == ()


def test_display_path_is_relative_to_cwd_when_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "chat.yaml").write_text(BASE + "rpm: 0\n")
    monkeypatch.chdir(tmp_path)
    under = load_models(tmp_path / "models")
    assert under.problems[0].file == "models/chat.yaml"
    monkeypatch.chdir(DATA)
    outside = load_models(tmp_path / "models")
    assert outside.problems[0].file == f"{tmp_path.as_posix()}/models/chat.yaml"


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope does not exist; create it"):
        load_models(tmp_path / "nope")


def test_file_instead_of_folder_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text(BASE)
    with pytest.raises(ConfigError, match=r"models.yaml is not a directory"):
        load_models(tmp_path / "models.yaml")


def test_the_repository_examples_load_without_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = load_models(Path("models"))
    assert result.problems == ()
    assert result.notes == ()
    assert len(result.definitions) >= 3
    assert check_reroute_targets(result.definitions, known_ids=()) == []


# --- plan time: reroute targets ----------------------------------------------------------


def test_reroute_targets_name_desired_or_live_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    definitions = load_models(Path("valid")).definitions
    assert check_reroute_targets(definitions, known_ids=()) == []
    without_embed = [d for d in definitions if d.id != "test:embed"]
    assert check_reroute_targets(without_embed, known_ids={"test:embed"}) == []
    problems = check_reroute_targets(without_embed, known_ids={"test:embed-v2"})
    assert [str(p) for p in problems] == [
        "valid/chat.yaml:16: rerouteRules[0].targetModelId: no model 'test:embed' "
        "in models/ or in the registry; did you mean 'test:embed-v2'?"
    ]


def test_reroute_to_itself_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE + (
        "rerouteRules:\n"
        "  - trigger: {type: error-fallback}\n"
        "    targetModelId: other:model\n"
        "  - trigger: {type: context-exceeded}\n"
        "    targetModelId: meetkai:chat\n"
    )
    result = load(tmp_path, monkeypatch, {"chat.yaml": "---\n" + text})
    problems = check_reroute_targets(result.definitions, known_ids={"other:model"})
    assert [str(p) for p in problems] == [
        "models/chat.yaml:16: rerouteRules[1].targetModelId: "
        "reroutes to its own id; name another model"
    ]


def test_reroute_problem_falls_back_to_the_document_line_when_the_file_is_gone(
    tmp_path: Path,
) -> None:
    body = {"id": "a:b", "rerouteRules": [{"trigger": {}, "targetModelId": "x:y"}]}
    gone = DesiredDefinition("a:b", body, str(tmp_path / "gone.yaml"), 7)
    (problem,) = check_reroute_targets([gone], known_ids=())
    assert problem.line == 7


def test_line_of_finds_a_field_lazily(tmp_path: Path) -> None:
    target = tmp_path / "two.yaml"
    shutil.copy(DATA / "valid" / "chat.yaml", target)
    assert line_of(str(target), 18, ("auth", "envVars", "X-Api-Key")) == 29
    assert line_of(str(target), 18, ("capabilities", "modalities", "input", 3)) == 32
    assert line_of(str(target), 18, ("capabilities", "nothing", "here")) == 30
    assert line_of(str(target), 2, ()) == 2
    assert line_of(str(target), 99, ("id",)) == 99
    assert line_of(str(tmp_path / "missing.yaml"), 3, ("id",)) == 3


def test_a_null_leaves_the_field_out_of_the_definition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"chat.yaml": BASE + "hidden: null\n"})
    (definition,) = result.definitions
    assert "hidden" not in definition.body
    assert [problem.severity for problem in result.problems] == ["warning"]


def test_ten_thousand_failing_reroute_rules_report_quickly(tmp_path: Path) -> None:
    # Each rule names its own removed target: one suggestion per target, from one index.
    definitions = [
        DesiredDefinition(
            f"team:model-{n:05}",
            {"rerouteRules": [{"trigger": {}, "targetModelId": f"team:modle-{n:05}"}]},
            str(tmp_path / "gone.yaml"),
            n + 1,
        )
        for n in range(10_000)
    ]
    problems = check_reroute_targets(definitions, known_ids={f"live:{n}" for n in range(10_000)})
    assert len(problems) == 10_000
    assert problems[42].message == (
        "no model 'team:modle-00042' in models/ or in the registry; "
        "did you mean 'team:model-00042'?"
    )


def test_files_a_writer_knows_are_checked_as_parsing_would_check_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What export does: it knows the mapping each written file loads as.
    header = "# Read-only\n#\n# note\n"
    text = header + BASE + "contextWindow: -5\nsurprise: 1\n"
    result = load(tmp_path, monkeypatch, {"chat.yaml": text, "other.yaml": "---\n" + BASE})
    known = yaml.safe_load(text)
    written = {(tmp_path / "models" / "chat.yaml").absolute(): known}
    assert load_models(Path("models"), written=written) == result
    assert [p.line for p in result.problems] == [14, 15, 2]
    # Taken as known, not parsed: a different mapping gives its own problems.
    written = {path: {**known, "contextWindow": 5} for path in written}
    assert [p.line for p in load_models(Path("models"), written=written).problems] == [15, 2]
