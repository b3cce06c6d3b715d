"""Live entries -> model files."""
