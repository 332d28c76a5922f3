"""Recommend's adapters: purchases and stock tables (PostgreSQL)."""
