"""Model files (with overlays, variables and the parse cache) -> desired definitions."""

__all__ = []
