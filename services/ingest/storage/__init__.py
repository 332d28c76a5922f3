"""Ingest's tables and the repository that reads and writes them in set-based statements."""
