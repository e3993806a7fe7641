"""Benchmarks and the soak of mock-anveo: one entry point, ``python -m bench`` (repository root)."""
