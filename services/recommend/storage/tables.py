"""Recommend's tables (schema `<prefix>recommend`): processed hand-off records, purchases, the catalogue, the
interactions and appetences the model learns from, merges, and the trained models."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from declic.kit.inbox import inbox_table

PRODUCT_ID_CHARS = 128
"""As ingest accepts them (migration 0002)."""
metadata = MetaData()
inbox = inbox_table(metadata)

popularity = Table(
    "popularity",
    metadata,
    Column("product_id", String(PRODUCT_ID_CHARS), primary_key=True),
    Column("units", Float, nullable=False),
)

purchases = Table(
    "purchases",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("product_id", String(PRODUCT_ID_CHARS), primary_key=True),
)

products = Table(
    "products",
    metadata,
    Column("product_id", String(PRODUCT_ID_CHARS), primary_key=True),
    Column("in_stock", Boolean, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("categories", JSON, nullable=False, server_default="[]"),
    Column("attributes", JSON, nullable=False, server_default="{}"),
    Column("price", Float),
    Column("replenishment", Boolean, nullable=False, server_default="false"),
    # Raised on every change, so replicas fetch only what changed since their last look.
    Column("revision", BigInteger, nullable=False, server_default="0", index=True),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("product_id", String(PRODUCT_ID_CHARS), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("order_id", Text, nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

appetences = Table(
    "appetences",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("category", Text, primary_key=True),
    Column("weight", Float, nullable=False),
)

merged_into = Table(
    "merged_into",
    metadata,
    Column("merged_id", String(64), primary_key=True),
    Column("survivor_id", String(64), nullable=False, index=True),
)

models = Table(
    "models",
    metadata,
    Column("version", String(40), primary_key=True),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("data_from", DateTime(timezone=True)),
    Column("data_to", DateTime(timezone=True)),
    Column("metrics", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("refusal", Text, nullable=False, server_default=""),
    Column("users", Integer, nullable=False),
    Column("products", Integer, nullable=False),
    Column("artifact", LargeBinary),
)

current_model = Table(
    "current_model",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(40), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
