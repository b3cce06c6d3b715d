"""``registry-sync completion SHELL``: the shell completion script."""

from __future__ import annotations

import click

from registry_sync.cli.output import Output

__all__ = [
    "COMPLETE_VARIABLE",
    "COMPLETION_SHELLS",
    "PROG_NAME",
    "completion",
    "run_completion",
]

PROG_NAME = "registry-sync"
# The variable click's completion scripts call the command back with (_PROG_NAME_COMPLETE).
COMPLETE_VARIABLE = "_REGISTRY_SYNC_COMPLETE"
COMPLETION_SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(COMPLETION_SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash, in ~/.bashrc: eval "$(registry-sync completion bash)"
    zsh, in ~/.zshrc:   eval "$(registry-sync completion zsh)"
    fish: registry-sync completion fish > ~/.config/fish/completions/registry-sync.fish
    """
    run_completion(ctx.find_root().command, shell, Output())


def run_completion(root: click.Command, shell: str, output: Output) -> int:
    """Print the completion script of ``root`` for ``shell``; returns the exit code."""
    # Only here: the completion machinery is not worth importing on every start.
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)
    assert script is not None  # click ships all three
    output.out(script(root, {}, PROG_NAME, COMPLETE_VARIABLE).source(), nl=False)
    return 0
