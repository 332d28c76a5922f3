"""Ingest's tables: events (de-duplication key), identity graph, audit, catalogue, stats, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_columns
from declic.kit.outbox import outbox_columns

revision = "0001"
down_revision = None

_ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event_time", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", _ID, primary_key=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("merged_into", _ID, nullable=True),
        sa.Column("erased_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "identifiers",
        sa.Column("type", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_identifiers_customer", "identifiers", ["customer_id"])
    op.create_table(
        "merges",
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("survivor_id", _ID, nullable=False),
        sa.Column("merged_ids", sa.Text, nullable=False),
        sa.Column("cause_source", sa.String(64), nullable=False),
        sa.Column("cause_event_id", sa.String(128), nullable=False),
        sa.Column("merged_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_merges_survivor", "merges", ["survivor_id"])
    op.create_table(
        "identity_refusals",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("customer_ids", sa.Text, nullable=False),
        sa.Column("identifier_type", sa.String(20), nullable=False),
        sa.Column("cause_source", sa.String(64), nullable=False),
        sa.Column("cause_event_id", sa.String(128), nullable=False),
        sa.Column("refused_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "splits",
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("from_customer_id", _ID, nullable=False),
        sa.Column("new_customer_id", _ID, nullable=False),
        sa.Column("identifiers", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("split_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "split_pairs",
        sa.Column("customer_a", _ID, primary_key=True),
        sa.Column("customer_b", _ID, primary_key=True),
    )
    op.create_table(
        "suppressed_identifiers",
        sa.Column("identifier_hash", sa.String(64), primary_key=True),
        sa.Column("erased_customer_id", _ID, nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ingest_stats",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(300), primary_key=True),
        sa.Column("shard", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table("outbox", *outbox_columns())
    op.create_table("inbox", *inbox_columns())


def downgrade() -> None:
    for table in ("inbox", "outbox", "ingest_stats", "products", "suppressed_identifiers", "split_pairs",
                  "splits", "identity_refusals", "merges", "identifiers", "customers", "events"):
        op.drop_table(table)
