"""One module per command: a click command that parses, and ``run_<name>(...)``,
which takes plain arguments, prints through Output and returns the exit code."""

__all__ = []
