"""Benchmarks: each one prints its measurement against a floor measured in the same run (see README.md)."""
