"""Synthetic input data for tests, demos and benchmarks."""
