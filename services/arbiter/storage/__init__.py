"""Arbiter's adapters: the decisions table (PostgreSQL) and the pressure counters (Redis)."""
