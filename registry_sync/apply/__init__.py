"""Preflight, the applier, and health verification after apply."""
