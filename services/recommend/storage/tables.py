"""Recommend's tables (schema `<prefix>recommend`): processed hand-off records, purchases and stock."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table

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
)
