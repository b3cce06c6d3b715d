"""A local MKA1 model registry for tests, demos and benchmarks (not used at run time).

Run it from a shell with ``python -m registry_sync.testing --seed FILE`` (``--api
catalog`` for the catalog and activation API). The
factories build the documents it serves (seeds, expected responses) in one place.
"""

from registry_sync.testing.factories import (
    MINIMAL_MODEL_YAML,
    catalog_entry,
    catalog_list,
    list_response,
    minimal_definition,
    registry_model,
    review_plan,
)
from registry_sync.testing.server import (
    Fault,
    FaultKind,
    RecordedRequest,
    RegistryServer,
    StoreRules,
)

__all__ = [
    "MINIMAL_MODEL_YAML",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "RegistryServer",
    "StoreRules",
    "catalog_entry",
    "catalog_list",
    "list_response",
    "minimal_definition",
    "registry_model",
    "review_plan",
]
