"""Defaults, ``registry-sync.yaml`` and its checks, and the one resolver of settings."""

__all__ = []
