"""Inbox, popularity, purchases and stock.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.inbox import inbox_columns

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("inbox", *inbox_columns())
    op.create_table(
        "popularity",
        sa.Column("product_id", sa.String(100), primary_key=True),
        sa.Column("units", sa.Float, nullable=False),
    )
    op.create_table(
        "purchases",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("product_id", sa.String(100), primary_key=True),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.String(100), primary_key=True),
        sa.Column("in_stock", sa.Boolean, nullable=False),
    )
    op.create_index("ix_popularity_units", "popularity", ["units"])


def downgrade() -> None:
    for table in ("products", "purchases", "popularity", "inbox"):
        op.drop_table(table)
