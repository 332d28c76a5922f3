"""Scenarios as data: the schema of a scenario file, its loader and its CEL conditions.

Pure code shared by the scenario service and the `declic scenarios` commands (which must not import a
service's internals): nothing here does I/O but reading the catalogue's files.
"""
