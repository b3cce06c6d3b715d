"""``python -m registry_sync`` runs the CLI."""

from registry_sync.cli import main

__all__ = []

main()
