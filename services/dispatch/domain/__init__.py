"""Dispatch's pure domain: what a message is and how it is rendered. No I/O here."""
