"""The Definition and what is known of its fields: secrets, reroutes, problems as values."""

__all__ = []
