"""Every error a user can see derives from :class:`RegistrySyncError`.

The CLI prints ``error: <message>`` for these and exits 1; any other exception is a
bug and is reported as one. Messages follow ``<operation> failed: <cause>`` and say
what to do next. No message ever contains the API key.

Hierarchy::

    RegistrySyncError
    ├── InvalidModels        models/ has problems (carries every Problem, sorted)
    ├── ConfigError          bad flags, environment or project configuration
    │   └── InvalidConfig    registry-sync.yaml has problems (carries every Problem)
    ├── RegistryError        talking to the registry failed (fail closed)
    │   ├── TransportError   no usable HTTP answer: timeout, refused, dropped
    │   ├── ApiError         the server answered with an error status
    │   └── ResponseShapeError  the answer (or a saved snapshot) has the wrong shape
    ├── PlanFileError        a saved plan file cannot be used
    ├── ApplyRefused         apply wrote nothing: a safety rail, a conflict, a stale plan
    ├── ExportError          export cannot write its files (they exist, or I/O failed)
    └── EditRefused          pull, fmt or export --merge wrote nothing: a file would read
                             back otherwise, changed on disk since read, or cannot be written
"""

from __future__ import annotations

from collections.abc import Sequence

from registry_sync.schema.problems import Problem

__all__ = [
    "ApiError",
    "ApplyRefused",
    "ConfigError",
    "EditRefused",
    "ExportError",
    "InvalidConfig",
    "InvalidModels",
    "PlanFileError",
    "RegistryError",
    "RegistrySyncError",
    "ResponseShapeError",
    "TransportError",
]


class RegistrySyncError(Exception):
    """Base of every error a user can see; ``str(err)`` is the whole message."""


class InvalidModels(RegistrySyncError):
    """The models folder has one or more problems; ``problems`` holds all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"models are invalid: {count} {noun} found")


class ConfigError(RegistrySyncError):
    """A flag, environment variable or configuration value is wrong or missing."""


class InvalidConfig(ConfigError):
    """The project configuration file has one or more problems; ``problems`` holds all."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"project configuration {file} is invalid: {count} {noun} found")


class RegistryError(RegistrySyncError):
    """Reading from or writing to the registry failed."""


class TransportError(RegistryError):
    """No usable HTTP response: connection refused or dropped, or a timeout. ``hint``
    says what to check (the host, and the setting that named it)."""

    def __init__(self, operation: str, method: str, path: str, cause: str, hint: str = "") -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.cause = cause
        self.hint = hint
        then = f"; {hint}" if hint else ""
        super().__init__(f"{operation} failed: {method} {path}: {cause}{then}")


class ApiError(RegistryError):
    """The registry answered with an error status. ``hint`` says what to check (for a
    refused key, the variable that holds it)."""

    def __init__(
        self, operation: str, method: str, path: str, status: int, message: str, hint: str = ""
    ) -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.hint = hint
        detail = f": {message}" if message else ""
        then = f"; {hint}" if hint else ""
        super().__init__(f"{operation} failed: {method} {path} returned {status}{detail}{then}")


class ResponseShapeError(RegistryError):
    """A response (or a saved list response) does not have the documented shape.

    ``origin`` names where it came from: ``GET /api/v1/llm/models/registry`` or a file.
    """

    def __init__(self, origin: str, where: str, what: str) -> None:
        self.origin = origin
        self.where = where
        self.what = what
        location = f" at {where}" if where else ""
        super().__init__(
            f"unexpected response from {origin}{location}: {what}; "
            "refusing to treat it as the registry's state"
        )


class PlanFileError(RegistrySyncError):
    """A saved plan file is corrupt, of an unknown version, or no longer applicable."""


class ApplyRefused(RegistrySyncError):
    """Apply refused before writing anything: a safety rail, a read-only conflict, a
    stale plan, or no approval. The message names the entries and what to do next."""


class ExportError(RegistrySyncError):
    """Export cannot write its files: a target exists (without --force) or a write failed."""


class EditRefused(RegistrySyncError):
    """An in-place edit of model files wrote nothing: the new text would not load as
    the intended definitions, a file changed on disk since it was read, or it cannot
    be edited or written. The message names the file and what to do."""
