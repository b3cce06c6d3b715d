"""registry-sync: keep an MKA1 model registry in git."""

__version__ = "0.1.0"
