"""Plan data, comparison, the planner, targeting, policy, and the saved plan file."""

__all__ = []
