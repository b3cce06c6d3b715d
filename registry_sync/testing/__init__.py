"""A local MKA1 model registry for tests, demos and benchmarks (not used at run time).

Run it from a shell with ``python -m registry_sync.testing --seed FILE``. The
factories build the documents it serves (seeds, expected responses) in one place.
"""

from registry_sync.testing.factories import (
    MINIMAL_MODEL_YAML,
    list_response,
    minimal_definition,
    registry_model,
    review_plan,
)
from registry_sync.testing.server import Fault, FaultKind, RecordedRequest, RegistryServer

__all__ = [
    "MINIMAL_MODEL_YAML",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "RegistryServer",
    "list_response",
    "minimal_definition",
    "registry_model",
    "review_plan",
]
