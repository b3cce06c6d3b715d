"""What each command does, without click: requests in, results out."""

__all__ = []
