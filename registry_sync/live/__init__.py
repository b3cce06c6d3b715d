"""The only HTTP code: the client, network bounds, pacing, and the live entries it reads."""

__all__ = []
