"""Scenario's tables (schema `<prefix>scenario`): processed hand-off records (inbox) and firings."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_table

metadata = MetaData()
inbox = inbox_table(metadata)

firings = Table(
    "firings",
    metadata,
    Column("firing_id", String(64), primary_key=True),
    Column("scenario_id", String(100), nullable=False),
    Column("step_id", String(100), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("channels", Text, nullable=False),
    Column("template_id", String(100), nullable=False),
    Column("variables", Text, nullable=False),
    Column("transactional", Integer, nullable=False),
    Column("cause_event_id", String(200), nullable=False),
    Column("fired_at", UtcDateTime(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("trace_context", Text, nullable=False, server_default=""),
    Index("ix_firings_due", "state", "next_attempt_at"),
    Index("ix_firings_customer", "customer_id"),
)
