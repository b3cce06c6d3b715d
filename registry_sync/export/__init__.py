"""Live entries -> model files."""

__all__ = []
