"""Arbiter's tables (schema `<prefix>arbiter`): one decision per firing."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from declic.kit.database import UtcDateTime

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("firing_id", String(100), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("scenario_id", String(100), nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("reason", String(30), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("defer_until", UtcDateTime(), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=False),
    Index("ix_decisions_customer", "customer_id", "decided_at"),
)
