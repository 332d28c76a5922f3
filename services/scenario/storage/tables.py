"""Scenario's tables (schema `<prefix>scenario`): processed hand-off records (inbox), firings, journeys (with
their due timer), segment runs and paused scenarios."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

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

journeys = Table(
    "journeys",
    metadata,
    Column("journey_id", String(64), primary_key=True),
    Column("scenario_id", String(100), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("entry_key", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("step", String(100), nullable=False),
    # The journey's one timer: when its next step (or the end of its wait) is due; NULL when ended.
    Column("due_at", UtcDateTime(), nullable=True),
    Column("entered_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("cause_event_id", String(200), nullable=False),
    Column("waiting_for", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("goal_at", UtcDateTime(), nullable=True),
    Column("variables", JSONB, nullable=False),
    Column("memory", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_journeys_due", "due_at", postgresql_where=text("due_at IS NOT NULL")),
    # (entered_at: the last entry into a scenario, checked for each entry once per period, read without a sort)
    Index("ix_journeys_customer", "customer_id", "scenario_id", "entered_at"),
)

segment_runs = Table(
    "segment_runs",
    metadata,
    Column("scenario_id", String(100), primary_key=True),
    Column("slot", String(200), primary_key=True),
    Column("lease_until", UtcDateTime(), nullable=False),
    Column("entered", Integer, nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
)

scenario_controls = Table(
    "scenario_controls",
    metadata,
    Column("scenario_id", String(100), primary_key=True),
    Column("paused", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
)
