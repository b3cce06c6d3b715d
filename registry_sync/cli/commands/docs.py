"""``registry-sync docs [TOPIC]``: the documentation pages shipped with the command."""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

from registry_sync.cli.output import Output, run_command

__all__ = ["docs", "run_docs"]


def _topics(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The page names, for shell completion (each with its title)."""
    from registry_sync.operations.docs import docs_pages

    return [
        CompletionItem(page.topic, help=page.title)
        for page in docs_pages()
        if page.topic.startswith(incomplete)
    ]


@click.command()
@click.argument("topic", required=False, shell_complete=_topics)
def docs(topic: str | None) -> None:
    """Print a documentation page (Markdown), or list the pages without TOPIC.

    The pages are the docs/ folder of the repository, shipped in the package: the
    same text whichever way registry-sync was installed. No network access.
    """
    output = Output()
    run_command(output, lambda: run_docs(output, topic))


def run_docs(output: Output, topic: str | None) -> int:
    """Print the page of ``topic``, or the list of topics; returns the exit code."""
    from registry_sync.operations.docs import docs_page, docs_pages

    if topic is not None:
        output.out(docs_page(topic).text, nl=False)
        return 0
    pages = docs_pages()
    width = max(len(page.topic) for page in pages)
    output.out("Documentation pages (registry-sync docs TOPIC prints one):")
    for page in pages:
        output.out(f"  {page.topic:<{width}}  {page.title}")
    return 0
