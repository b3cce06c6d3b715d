"""registry-sync completion SHELL prints click's completion script, which works."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from registry_sync.cli import COMPLETE_VARIABLE, PROG_NAME, cli


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    # As main() runs the group (the name and variable the scripts call back with).
    return CliRunner().invoke(
        cli, args, env=env, prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE
    )


def complete(words: str, cword: int) -> str:
    env = {COMPLETE_VARIABLE: "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = invoke([], env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _registry_sync_completion registry-sync"),
        ("zsh", "#compdef registry-sync"),
        ("fish", "complete --no-files --command registry-sync"),
    ],
)
def test_completion_prints_the_script_click_generates(shell: str, marker: str) -> None:
    printed = invoke(["completion", shell])
    assert printed.exit_code == 0, printed.stderr
    assert marker in printed.stdout
    assert "_REGISTRY_SYNC_COMPLETE=" in printed.stdout
    # The script click itself serves through the variable.
    generated = invoke([], {COMPLETE_VARIABLE: f"{shell}_source"})
    assert generated.exit_code == 0, generated.stderr
    assert printed.stdout == generated.stdout


def test_the_installed_entry_point_answers_the_completion_variable() -> None:
    env = {COMPLETE_VARIABLE: "bash_complete", "COMP_WORDS": "registry-sync pl", "COMP_CWORD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "registry_sync"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "plain,plan\n"


def test_completion_of_options_and_shells() -> None:
    assert complete("registry-sync plan --detail", 2) == "plain,--detailed-exitcode\n"
    assert complete("registry-sync completion ", 2) == "plain,bash\nplain,zsh\nplain,fish\n"


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 1
    assert "error: Invalid value for 'SHELL': 'tcsh' is not one of 'bash', 'zsh', 'fish'." in (
        result.stderr
    )
