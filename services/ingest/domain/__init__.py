"""Ingest's pure domain: normalisation rules and the identity graph. No I/O here."""
