"""Scenario's adapters: the inbox and firings tables (PostgreSQL)."""
