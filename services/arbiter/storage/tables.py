"""Arbiter's tables (schema `<prefix>arbiter`): one decision per firing (the contact history, and the truth the
Redis counters are rebuilt from), exclusion lists, cool-offs, consents seen on the hand-off stream, its inbox."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, MetaData, String, Table, Text

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_table

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
    Column("category", Text, nullable=False, server_default=""),
    Column("priority", BigInteger, nullable=False, server_default="0"),
    Column("cause_event_id", Text, nullable=False, server_default=""),
    Column("policy_version", String(64), nullable=False, server_default=""),
    Column("rules", Text, nullable=False, server_default="[]"),  # JSON: [[rule, outcome, detail], …]
    Column("slot", String(12), nullable=False, server_default=""),
    Column("slot_at", UtcDateTime(), nullable=True),
    Column("hold_until", UtcDateTime(), nullable=True),
    Column("displaced_by", String(100), nullable=False, server_default=""),
    Index("ix_decisions_customer", "customer_id", "decided_at"),
)

exclusions = Table(
    "exclusions",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("list", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_exclusions_list", "list", "customer_id"),
)

cool_offs = Table(
    "cool_offs",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("until", UtcDateTime(), nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

inbox = inbox_table(metadata)
