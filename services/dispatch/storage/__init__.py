"""Dispatch's adapters: the messages table (PostgreSQL)."""
