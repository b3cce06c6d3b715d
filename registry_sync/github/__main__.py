"""``python -I -m registry_sync.github``: the GitHub Action's entry point."""

from registry_sync.github.cli import main

__all__ = []

main()
