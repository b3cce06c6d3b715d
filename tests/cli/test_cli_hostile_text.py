"""Terminal and plan-text injection (issue 23, item 5): ids, values, server messages
and file contents print with control characters, escape sequences and bidi overrides
escaped, one entry per line, on a terminal (colour) or piped alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from registry_sync.cli import cli
from registry_sync.printable import printable, printable_lines
from registry_sync.testing import (
    Fault,
    RegistryServer,
    list_response,
    minimal_definition,
    registry_model,
)

KEY = "sk-hostile-text-test-3a9f"
FORGED = "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete. 0 read-only conflicts"
FORGING_ID = f"team-b:x\n\n{FORGED}\x1b[8m"
CLIPBOARD_ID = "team-b:\x1b]52;c;aGVsbG8=\x07clip"
REVERSED_ID = "team-b:\u202eexe.txt"
C1_NAME = "Text Embed\x85v1 \u2066x\u2069"
HOSTILE = ("\x1b", "\u202e", "\x85", "\u2066", "\x07", "\x9b")


@pytest.fixture(scope="module")
def server() -> Iterator[RegistryServer]:
    seed = list_response(
        registry_model(minimal_definition(model_id))
        for model_id in (FORGING_ID, CLIPBOARD_ID, REVERSED_ID)
    )
    seed["data"].append(registry_model(minimal_definition("team-b:named", displayName=C1_NAME)))
    with RegistryServer(seed=seed, api_key=KEY) as running:
        yield running


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "models"
    folder.mkdir()
    body = minimal_definition("team-b:named", displayName="Text Embed v1")
    (folder / "named.yaml").write_text(yaml.safe_dump(body), "utf-8")
    return folder


def run(*args: str, colour: bool, url: str | None = None) -> Result:
    env = {"MKA1_API_KEY": KEY}
    env.update({"FORCE_COLOR": "1", "NO_COLOR": ""} if colour else {"NO_COLOR": "1"})
    if url is not None:
        env["MKA1_API_URL"] = url
    return CliRunner().invoke(cli, list(args), env=env, color=colour)


def assert_clean(text: str) -> None:
    for char in HOSTILE:
        # Colour codes are the renderer's own: ESC only as the start of one.
        if char == "\x1b":
            assert "\x1b]" not in text
            assert "\x1b[8m" not in text
        else:
            assert char not in text, repr(char)


@pytest.mark.parametrize("colour", [False, True], ids=["piped", "terminal"])
def test_a_live_id_prints_on_one_escaped_line(
    server: RegistryServer, models: Path, colour: bool
) -> None:
    result = run("plan", "--models-dir", str(models), "--prune", colour=colour, url=server.url)
    assert result.exit_code == 0, result.output
    assert_clean(result.stdout)
    assert_clean(result.stderr)
    lines = result.stdout.splitlines()
    # The forged summary is part of the id's one line, never a line of its own; the
    # id is named escaped (in the plan, or in a warning about it).
    everything = (result.stdout + result.stderr).splitlines()
    assert not any(line.lstrip("\x1b[0123456789m").startswith(FORGED) for line in everything)
    assert len([line for line in lines if line.lstrip("\x1b[0123456789m").startswith("Plan:")]) == 1
    forged = [line for line in everything if FORGED in line]
    assert forged
    assert all("team-b:x\\n\\nPlan" in line for line in forged)
    assert printable(CLIPBOARD_ID) in result.stdout + result.stderr
    assert "team-b:\\u202eexe.txt" in result.stdout + result.stderr
    # A value: JSON escapes C0 itself; the sanitiser escapes C1 and bidi isolates too.
    assert "Text Embed\\u0085v1 \\u2066x\\u2069" in result.stdout


def test_json_and_markdown_keep_their_own_escaping(server: RegistryServer, models: Path) -> None:
    document = run(
        "plan", "--models-dir", str(models), "--format", "json", colour=False, url=server.url
    )
    # Valid JSON, whose strings read back as the registry holds them.
    parsed = json.loads(document.stdout)
    assert C1_NAME in json.dumps(parsed, ensure_ascii=False)
    assert_clean(document.stdout)
    markdown = run(
        "plan", "--models-dir", str(models), "--format", "markdown", colour=False, url=server.url
    )
    assert_clean(markdown.stdout)


@pytest.mark.parametrize("colour", [False, True], ids=["piped", "terminal"])
def test_a_server_error_body_is_escaped(tmp_path: Path, colour: bool) -> None:
    body = json.dumps({"error": {"message": "denied\x1b]52;c;aGk=\x07 \u202eyes \x1b[8mhidden"}})
    with RegistryServer(api_key=KEY) as failing:
        failing.inject(Fault("status", method="GET", status=403, body=body, times=None))
        result = run(
            "plan", "--models-dir", str(tmp_path), "--prune", colour=colour, url=failing.url
        )
    assert result.exit_code == 1
    assert_clean(result.stderr)
    assert "denied\\u001b]52;c;aGk=\\u0007 \\u202eyes \\u001b[8mhidden" in result.stderr


def test_validate_escapes_what_files_hold(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    hostile_key = "note\u202e\x1b]52;c;aGk=\x07"
    body = {**minimal_definition("team-b:file"), hostile_key: "x"}
    (models / "file.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
    for colour in (False, True):
        result = run("validate", "--models-dir", str(models), colour=colour)
        assert result.exit_code == 1
        assert_clean(result.stderr)
        assert "note\\u202e\\u001b]52;c;aGk=\\u0007" in result.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\u001b[31mred"),
        ("\x9b31m", "\\u009b31m"),
        ("\x7f", "\\u007f"),
        ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("é ✓ 漢字", "é ✓ 漢字"),
        ("\U000e0001", "\\udb40\\udc01"),
    ],
)
def test_the_sanitiser(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_the_sanitiser_keeps_lines_tabs_and_only_colour_codes() -> None:
    text = "a\x1b[1mb\x1b[0m\x1b]52;c;x\x07\n\tc\u202e"
    assert printable_lines(text) == "a\\u001b[1mb\\u001b[0m\\u001b]52;c;x\\u0007\n\tc\\u202e"
    coloured = "a\x1b[1mb\x1b[0m\\u001b]52;c;x\\u0007\n\tc\\u202e"
    assert printable_lines(text, colour=True) == coloured
