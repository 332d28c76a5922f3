"""Dispatch's tables (schema `<prefix>dispatch`): every message, one per firing and channel, and where telling the
arbiter it went out stands (`arbiter`: pending, confirmed, undecided, refused; see migration 0003)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, text

from declic.kit.database import UtcDateTime

metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("scenario_id", String(100), nullable=False),
    Column("firing_id", String(100), nullable=False),
    Column("address", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("arbiter", String(12), nullable=False, server_default="pending"),
    Column("arbiter_attempts", Integer, nullable=False, server_default="0"),
    Column("arbiter_due_at", UtcDateTime(), nullable=True),
    Index("ix_messages_customer", "customer_id", "created_at", "message_id"),
    Index("ix_messages_created", "created_at", "message_id"),
    Index("ix_messages_to_confirm", "arbiter_due_at", postgresql_where=text("arbiter = 'pending'")),
)
