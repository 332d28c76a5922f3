"""Ingest's tables (SQLAlchemy Core). The migrations in migrations/versions create the same (and make key
columns of events, identifiers and customers compare bytes: COLLATE "C", see 0005)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, text

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_table
from declic.kit.outbox import outbox_table
from services.ingest.domain.identity import PRIORITY as IDENTIFIER_TYPES

metadata = MetaData()

events = Table(
    "events",
    metadata,
    # (source, event_id) is the de-duplication key: its primary key makes a repeat fail, even concurrently.
    Column("source", String(64), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("customer_id", String(32), nullable=True),  # empty for catalogue events
    Column("kind", String(32), nullable=False),
    Column("event_time", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the normalised declic.common.v1.Event
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # Set when merged: always the final survivor (chains are flattened at each merge).
    Column("merged_into", String(32), nullable=True),
    Column("erased_at", UtcDateTime(), nullable=True),
    # How many identifiers of each type the customer holds (read by the guard rails on every batch).
    *[Column(f"n_{kind}", Integer, nullable=False, server_default="0") for kind in IDENTIFIER_TYPES],
    Index("ix_customers_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("type", String(20), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_identifiers_customer", "customer_id"),
)

merges = Table(
    "merges",
    metadata,
    Column("record_id", String(200), primary_key=True),
    Column("survivor_id", String(32), nullable=False),
    Column("merged_ids", Text, nullable=False),  # space-separated
    Column("cause_source", String(64), nullable=False),
    Column("cause_event_id", String(128), nullable=False),
    Column("merged_at", UtcDateTime(), nullable=False),
    Index("ix_merges_survivor", "survivor_id"),
    Index("ix_merges_merged_at", "merged_at", "record_id"),
)

refusals = Table(
    "identity_refusals",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("reason", String(64), nullable=False),
    Column("customer_ids", Text, nullable=False),  # space-separated
    Column("identifier_type", String(20), nullable=False),
    Column("cause_source", String(64), nullable=False),
    Column("cause_event_id", String(128), nullable=False),
    Column("refused_at", UtcDateTime(), nullable=False),
)

splits = Table(
    "splits",
    metadata,
    Column("record_id", String(200), primary_key=True),
    Column("from_customer_id", String(32), nullable=False),
    Column("new_customer_id", String(32), nullable=False),
    Column("identifiers", Text, nullable=False),  # "type:value" lines
    Column("reason", Text, nullable=False),
    Column("split_at", UtcDateTime(), nullable=False),
    Index("ix_splits_split_at", "split_at", "record_id"),
)

# Customers an operator split apart: never merged again.
split_pairs = Table(
    "split_pairs",
    metadata,
    Column("customer_a", String(32), primary_key=True),
    Column("customer_b", String(32), primary_key=True),
    Index("ix_split_pairs_customer_b", "customer_b"),
)

# sha256 of "<type>:<value>" of erased people's identifiers: events naming them are refused.
suppressed = Table(
    "suppressed_identifiers",
    metadata,
    Column("identifier_hash", String(64), primary_key=True),
    Column("erased_customer_id", String(32), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("product_id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),  # event time of the last upsert applied
    Column("payload", LargeBinary, nullable=False),  # the ProductUpsert
)

# Counters by (source, status, reason). `shard` can spread concurrent writers over several rows; batches take
# turns today (see IngestRepository.serialize_writers), so they all write shard 0.
stats = Table(
    "ingest_stats",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("reason", String(300), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# One row: bumped by every transaction that changes the identity graph (see IngestRepository.serialize_writers).
identity_version = Table(
    "identity_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
