"""Root conftest: makes `examples` importable from the repository root for tests and example runs."""
