"""`registry-sync docs [TOPIC]`: the documentation pages, shipped with the command."""

from __future__ import annotations

import re

from click.testing import CliRunner
from paths import ROOT

from registry_sync.cli import COMPLETE_VARIABLE, PROG_NAME, cli


def test_docs_lists_every_page_with_its_title() -> None:
    result = CliRunner().invoke(cli, ["docs"])
    assert result.exit_code == 0, result.output
    pages = sorted((ROOT / "docs").glob("*.md"))
    listed = re.findall(r"^  (\S+) +(.+)$", result.output, flags=re.M)
    assert [topic for topic, _ in listed] == [page.stem for page in pages]
    assert ("json", "JSON formats") in listed


def test_docs_prints_a_page_as_it_is_in_the_checkout() -> None:
    for topic in ("json", "JSON.md", "model_files"):
        result = CliRunner().invoke(cli, ["docs", topic])
        assert result.exit_code == 0, result.output
        name = "json.md" if topic.lower().startswith("json") else "model-files.md"
        assert result.output == (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_docs_of_an_unknown_topic_names_the_topics() -> None:
    result = CliRunner().invoke(cli, ["docs", "nope"])
    assert result.exit_code == 1
    assert "error: no documentation page 'nope': the topics are applying, " in result.output


def test_help_texts_point_at_docs_a_pipx_user_has() -> None:
    for command in ("plan", "show", "health", "config", "apply", "export", "validate"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "docs/" not in result.output, command
    assert "registry-sync docs json" in CliRunner().invoke(cli, ["plan", "--help"]).output


def test_the_topics_complete_in_the_shell() -> None:
    words = {"COMP_WORDS": "registry-sync docs js", "COMP_CWORD": "2"}
    result = CliRunner().invoke(
        cli,
        [],
        env={COMPLETE_VARIABLE: "bash_complete", **words},
        prog_name=PROG_NAME,
        complete_var=COMPLETE_VARIABLE,
    )
    assert result.stdout == "plain,json\n"
