"""YAML in and out: finding model files, parsing with source maps, emitting."""

__all__ = []
