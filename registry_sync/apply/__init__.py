"""Preflight, the applier, and health verification after apply."""

__all__ = []
