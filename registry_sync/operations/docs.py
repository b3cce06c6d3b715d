"""``docs``: the documentation pages, as shipped in the package.

The pages of ``docs/`` travel in the wheel (``registry_sync/docs`` is package data),
so whoever installed the command with pipx reads the same pages as a checkout holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from registry_sync.errors import RegistrySyncError

__all__ = ["DocsPage", "docs_page", "docs_pages"]


@dataclass(frozen=True)
class DocsPage:
    """One page: its topic (the file name without ``.md``), title and Markdown text."""

    topic: str
    title: str
    text: str


def docs_pages() -> list[DocsPage]:
    """Every shipped page, by topic; raises when the package holds none (a broken install)."""
    folder = resources.files("registry_sync") / "docs"
    pages = sorted(
        (
            _page(entry.name.removesuffix(".md"), entry.read_text(encoding="utf-8"))
            for entry in (folder.iterdir() if folder.is_dir() else ())
            if entry.name.endswith(".md")
        ),
        key=lambda page: page.topic,
    )
    if not pages:
        raise RegistrySyncError(
            "this installation holds no documentation pages (registry_sync/docs is "
            "missing): reinstall registry-sync"
        )
    return pages


def docs_page(topic: str) -> DocsPage:
    """The page of ``topic`` (``json``, ``model-files``; ``.md`` and case are ignored);
    raises naming the topics there are when none matches."""
    wanted = topic.lower().removesuffix(".md").replace("_", "-")
    pages = docs_pages()
    for page in pages:
        if page.topic == wanted:
            return page
    raise RegistrySyncError(
        f"no documentation page {topic!r}: the topics are "
        f"{', '.join(page.topic for page in pages)} (registry-sync docs lists them)"
    )


def _page(topic: str, text: str) -> DocsPage:
    first = text.split("\n", 1)[0]
    return DocsPage(topic, first.lstrip("# ").strip() or topic, text)
