"""Where the tests find the checkout's files, whichever folder below tests/ they sit in.

Imported as ``from paths import ROOT``: tests/ is on sys.path for pytest (tests/conftest.py
sits there, rootdir-relative "prepend" import mode) and for mypy (a base folder of files).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA", "EXAMPLE_REGISTRY", "GOLDEN", "ROOT", "TESTS"]

TESTS = Path(__file__).resolve().parent
# The checkout: pyproject.toml, README.md, docs/, examples/, models/, registry_sync/.
ROOT = TESTS.parent
# Reviewed expected outputs (exact text) of the renderers and of `config`.
GOLDEN = TESTS / "golden"
# The loader's fixture files: valid/ and invalid/ model folders.
DATA = TESTS / "data" / "loader"
# The bundled registry list response the README's plan command reads.
EXAMPLE_REGISTRY = ROOT / "examples" / "registry.json"
