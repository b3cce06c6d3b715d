"""Built-in defaults and the environment variables the tool reads, in one small
module that imports nothing: the settings resolver, ``--help`` and the modules that
use each value all take them from here."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ACTIVATION_SOURCES",
    "API_KEY_VARIABLE",
    "API_URL_VARIABLE",
    "API_VARIABLE",
    "CACHE_DIR_ENV",
    "CONFIG_FILE",
    "DEFAULT_API_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MODELS_DIR",
    "DEFAULT_PARALLELISM",
    "DEFAULT_RETRY_BUDGET",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_BYTES",
    "DEFAULT_TOTAL_NODES",
    "ON_BEHALF_OF_VARIABLE",
    "POLICY_RISKS",
    "READ_ONLY_DIR",
]

CONFIG_FILE = "registry-sync.yaml"

API_KEY_VARIABLE = "MKA1_API_KEY"
API_URL_VARIABLE = "MKA1_API_URL"
# Which API generation the registry speaks (registry or catalog); unset: detected.
API_VARIABLE = "MKA1_API"
ON_BEHALF_OF_VARIABLE = "MKA1_ON_BEHALF_OF"
# Where the parse cache lives (else the user cache directory).
CACHE_DIR_ENV = "REGISTRY_SYNC_CACHE_DIR"

DEFAULT_API_URL = "https://apigw.mka1.com"
DEFAULT_MODELS_DIR = Path("models")
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRY_BUDGET = 15.0
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
DEFAULT_PARALLELISM = 4
# The bound on one run's work: the YAML nodes and bytes of all model files together
# (limits.total_nodes and limits.total_bytes in registry-sync.yaml raise or lower it).
# 10,000 models of plan_bench's kind hold about 800,000 nodes and 7 MB.
DEFAULT_TOTAL_NODES = 2_000_000
DEFAULT_TOTAL_BYTES = 64 * 1024 * 1024
# The risk classes a policy may deny and --allow let through (values of plan.model.Risk).
POLICY_RISKS = ("destructive", "breaking")
# The platform sources activation.activate may name (byo names are activated by
# declaring them in models/): values of the catalog API's activation source.
ACTIVATION_SOURCES = ("serving", "cluster")
# Where export writes immutable entries, below the models folder.
READ_ONLY_DIR = "_read-only"
