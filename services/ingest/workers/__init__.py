"""Ingest's background work: the outbox relay and the privacy intake, in a process of their own (`relay`)."""
