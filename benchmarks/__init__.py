"""Benchmarks run by `make bench`; figures go into BENCHMARKS.md."""
