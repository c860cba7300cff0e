"""Benchmarks of the workbench (map and migrate) over a generated codebase."""
