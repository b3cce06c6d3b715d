"""Hostile files below models/: each costs bounded time and gives one clear problem."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from registry_sync.cli import cli
from registry_sync.desired.loader import MAX_PROBLEMS_PER_FILE, LoadResult, load_models
from registry_sync.testing import MINIMAL_MODEL_YAML, list_response, registry_model
from registry_sync.yamlio.files import MAX_FILE_BYTES

BASE = MINIMAL_MODEL_YAML
FAN_OUT = "l0: &l0 [a, b, c, d, e, f, g, h, i, j]\n" + "".join(
    f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]\n" for level in range(1, 6)
)
LONG_KEY = "k" * 1_100

HOSTILE: dict[str, tuple[str, str]] = {
    # name: (text, the one problem expected)
    "cycle.yaml": (
        BASE.replace("auth:\n  type: api-key\n  envVar: CHAT_API_KEY\n", "")
        + "auth: &a {type: composite, strategies: [*a]}\n",
        "models/cycle.yaml:8: auth: a YAML alias refers to its own parent",
    ),
    "fanout.yaml": (
        BASE + FAN_OUT,
        "models/fanout.yaml:1: YAML aliases expand this document past 10,000 nodes or "
        "1,000,000 characters; write the values out, with fewer aliases",
    ),
    "deep.yaml": (
        BASE + "extra: " + "[" * 330 + "]" * 330 + "\n",
        "models/deep.yaml:11: extra: YAML nested more than 64 levels deep",
    ),
    "bigint.yaml": (
        BASE + "contextWindow: " + "9" * 5000 + "\n",
        "models/bigint.yaml:11: contextWindow: an integer longer than 1,000 digits; "
        "quote it if it is text",
    ),
    # libyaml's bound on a plain key, whatever was read before: the same text as a value
    # first once made a second reader accept the key (issue 19).
    "longkey.yaml": (
        BASE + f"description: {LONG_KEY}\n{LONG_KEY}: 1\n",
        "models/longkey.yaml:12: YAML syntax error: could not find expected ':' "
        "(while scanning a simple key)",
    ),
    "nul.yaml": (
        BASE + "name: a\x00b\n",
        "models/nul.yaml:11: YAML syntax error: character U+0000 is not allowed in YAML text",
    ),
}


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> LoadResult:
    for name, text in files.items():
        path = tmp_path / "models" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return load_models(Path("models"))


def messages(result: LoadResult) -> list[str]:
    return [str(problem) for problem in result.problems]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_yaml_file_is_one_clear_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    text, expected = HOSTILE[name]
    assert messages(load(tmp_path, monkeypatch, {name: text})) == [expected]


def test_a_self_referencing_root_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"a.yaml": "&a [*a]\n"})
    assert messages(result) == ["models/a.yaml:1: a YAML alias refers to its own parent"]


def test_aliases_that_stay_small_are_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE.replace("{input: [text], output: [text]}", "{input: &t [text], output: *t}")
    result = load(tmp_path, monkeypatch, {"a.yaml": text})
    assert result.problems == ()
    assert result.definitions[0].body["capabilities"]["modalities"]["output"] == ["text"]


def test_integer_keys_and_boolean_keys_are_not_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"a.yaml": BASE + "1: a\ntrue: b\n"})
    assert not any("duplicate key" in message for message in messages(result))


def test_a_non_string_key_is_reported_at_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"a.yaml": BASE + "0x10: a\n"})
    assert messages(result) == ["models/a.yaml:11: [16]: keys should be strings"]


def test_a_file_name_with_an_escape_code_is_printed_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(tmp_path, monkeypatch, {"e\x1b[31m.yaml": BASE + "bogus: 1\n"})
    assert messages(result) == ["models/e\\u001b[31m.yaml:11: bogus: unknown field"]


def test_problems_are_capped_per_file_and_lines_are_found_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = "".join(f"unknown{index}: {index}\n" for index in range(5_000))
    result = load(tmp_path, monkeypatch, {"a.yaml": BASE + unknown})
    shown = messages(result)
    assert len(shown) == MAX_PROBLEMS_PER_FILE + 1
    assert shown[0] == (
        "models/a.yaml: 5000 problems in this file; the first 100 are listed, "
        "fix them and run validate again"
    )
    assert shown[1] == "models/a.yaml:11: unknown0: unknown field"
    assert shown[-1] == "models/a.yaml:110: unknown99: unknown field"


# --- files that are not plain files -----------------------------------------------------


def test_only_regular_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("password: hunter2-top-secret\n", encoding="utf-8")
    (models / "zero.yaml").symlink_to("/dev/zero")
    (models / "out.yaml").symlink_to(outside)
    (models / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    os.mkfifo(models / "pipe.yaml")
    (models / "big.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    (models / "inside.yaml").symlink_to(models / "real.yml")
    (models / "real.yml").write_text(BASE, encoding="utf-8")
    (models / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    result = load_models(Path("models"))  # a FIFO or /dev/zero would hang it here
    outside_link = (
        "a symbolic link to a file outside the models folder; registry-sync reads only "
        "files inside it: copy the file in instead"
    )
    assert messages(result) == [
        "models/big.yaml: larger than 10 MB; a model file is a few kilobytes: split it, "
        "or move what is not a model out of the models folder",
        "models/elsewhere: a symbolic link to a folder outside the models folder; "
        "registry-sync reads only files inside it: move the files in instead",
        "models/gone.yaml: a broken symbolic link; remove it or fix its target",
        f"models/out.yaml: {outside_link}",
        "models/pipe.yaml: a named pipe, not a regular file; only regular files are read",
        f"models/zero.yaml: {outside_link}",
        "models/real.yml:1: id: duplicate id 'meetkai:chat': declared at "
        "models/inside.yaml:1 and at models/real.yml:1",
    ] or "hunter2" not in "".join(messages(result))


def test_a_link_to_a_special_file_inside_the_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    os.mkfifo(models / "pipe")
    (models / "p.yaml").symlink_to(models / "pipe")
    monkeypatch.chdir(tmp_path)
    assert messages(load_models(Path("models"))) == [
        "models/p.yaml: a named pipe, not a regular file; only regular files are read"
    ]


@pytest.fixture
def unreadable_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make listing models/sub fail as chmod 000 does (tests may run as root, whom
    permissions do not stop)."""
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(os.fspath(path)) == "sub":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    yield "sub"


def test_an_unreadable_folder_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable_folder: str
) -> None:
    result = load(tmp_path, monkeypatch, {"a.yaml": BASE, f"{unreadable_folder}/b.yaml": BASE})
    assert messages(result) == [
        "models/sub: cannot read the folder: Permission denied; fix its permissions "
        "(its models would be missing from the plan)"
    ]


def test_plan_does_nothing_when_a_folder_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable_folder: str
) -> None:
    other = BASE.replace("meetkai:chat", "meetkai:other")
    load(tmp_path, monkeypatch, {"a.yaml": BASE, f"{unreadable_folder}/b.yaml": other})
    registry = tmp_path / "registry.json"
    seed = list_response(
        registry_model(yaml.safe_load(text) | {"created": 1}) for text in (BASE, other)
    )
    registry.write_text(json.dumps(seed), "utf-8")
    result = CliRunner().invoke(
        cli, ["plan", "--prune", "--registry-file", str(registry)], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 1
    assert "models/sub: cannot read the folder: Permission denied" in result.stderr
    assert "deleted" not in result.stdout


def test_validate_on_every_hostile_file_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {name: text for name, (text, _) in HOSTILE.items()}
    files["esc\x1b[2J.yaml"] = BASE + "bogus: 1\n"
    load(tmp_path, monkeypatch, files)
    models = tmp_path / "models"
    (models / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(models / "pipe.yaml")
    (models / "big.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    secret = tmp_path / "secret.yaml"
    secret.write_text("token: do-not-echo-me\n", "utf-8")
    (models / "out.yaml").symlink_to(secret)
    (models / "deep.json.yaml").write_text("[" * 330 + "]" * 330 + "\n", "utf-8")

    result = CliRunner().invoke(cli, ["validate"], env={"NO_COLOR": "1"})

    assert result.exit_code == 1
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "do-not-echo-me" not in result.output and "\x1b" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("models/")]
    named = sorted({line.split(":")[0] for line in lines})
    assert named == sorted(
        [f"models/{name}" for name in HOSTILE]
        + [
            "models/esc\\u001b[2J.yaml",
            "models/zero.yaml",
            "models/pipe.yaml",
            "models/big.yaml",
            "models/out.yaml",
            "models/deep.json.yaml",
        ]
    )
    assert len(lines) == len(named)  # one clear error per file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "!!int id: 1\n",
            "models/a.yaml:1: YAML error: this value is not a valid int, as its tag says",
        ),
        ("!!int\n", "models/a.yaml:1: YAML error: this value is not a valid int, as its tag says"),
        (
            "a: !!timestamp x\n",
            "models/a.yaml:1: YAML error: this value is not a valid timestamp, as its tag says",
        ),
    ],
)
def test_an_explicit_tag_on_text_it_cannot_read_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    assert messages(load(tmp_path, monkeypatch, {"a.yaml": text})) == [message]


def test_many_small_fan_outs_in_one_file_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = "x: &x [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\ny: [" + ", ".join(["*x"] * 600) + "]\n"
    result = load(tmp_path, monkeypatch, {"a.yaml": ("---\n" + document) * 3})
    assert messages(result)[-1] == (
        "models/a.yaml:5: YAML aliases across this file's documents add more than 10,000 "
        "nodes or 1,000,000 characters; write the values out, with fewer aliases"
    )
