"""Profiles: customers, identifiers, consents (+ history), orders, engagement, appetences, products,
suppressions, inbox and outbox.

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

CUSTOMER_ID = 64


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(CUSTOMER_ID), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("survivor_id", sa.String(CUSTOMER_ID)),
        _text("first_name", 200),
        _text("last_name", 200),
        _text("birth_date", 10),
        sa.Column("birth_month", sa.SmallInteger),
        sa.Column("birth_day", sa.SmallInteger),
        _text("locale", 35),
        _text("timezone", 64),
        sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
        sa.Column("field_times", sa.Text, nullable=False, server_default="{}"),
        sa.Column("first_seen_at", UtcDateTime()),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("order_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_order_ts", sa.BigInteger),
        sa.Column("last_order_ts", sa.BigInteger),
        sa.Column("avg_interval_seconds", sa.BigInteger),
        sa.Column("monetary_cents", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("discounted_order_count", sa.Integer, nullable=False, server_default="0"),
        _text("currency", 3),
        *[
            sa.Column(f"{channel}_contactable", sa.Boolean, nullable=False, server_default=sa.false())
            for channel in ("email", "sms", "push", "print", "call_center")
        ],
    )
    op.create_index("ix_customers_birthday", "customers", ["birth_month", "birth_day"])
    op.create_index("ix_customers_last_order", "customers", ["last_order_ts"])
    op.create_index("ix_customers_survivor", "customers", ["survivor_id"])

    op.create_table(
        "identifiers",
        sa.Column("id_type", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("customer_id", sa.String(CUSTOMER_ID), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_identifiers_customer", "identifiers", ["customer_id"])

    op.create_table(
        "consents",
        sa.Column("customer_id", sa.String(CUSTOMER_ID), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("legal_basis", sa.String(30), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("given_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "consent_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(CUSTOMER_ID), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("legal_basis", sa.String(30), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("given_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
    )
    op.create_index("ix_consent_history_customer", "consent_history", ["customer_id", "given_at"])

    op.create_table(
        "channel_blocks",
        sa.Column("customer_id", sa.String(CUSTOMER_ID), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("blocked_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("customer_id", sa.String(CUSTOMER_ID), nullable=False),
        sa.Column("ordered_at", UtcDateTime(), nullable=False),
        sa.Column("ordered_ts", sa.BigInteger, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("discount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("original_order_id", sa.String(100), nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_orders_customer", "orders", ["customer_id", "ordered_ts"])

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.String(CUSTOMER_ID), nullable=False),
        sa.Column("ordered_ts", sa.BigInteger, nullable=False),
        sa.Column("product_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("pack_size", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_order_lines_category", "order_lines", ["category", "ordered_ts"])
    op.create_index("ix_order_lines_customer", "order_lines", ["customer_id"])
    op.create_index("ix_order_lines_product", "order_lines", ["product_id"])

    op.create_table(
        "engagement_counts",
        sa.Column("customer_id", sa.String(CUSTOMER_ID), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "appetences",
        sa.Column("customer_id", sa.String(CUSTOMER_ID), primary_key=True),
        sa.Column("dimension", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("anchor_ts", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("pack_size", sa.String(20), nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "suppressions",
        sa.Column("identifier_hash", sa.String(64), primary_key=True),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
    )
    op.create_table("inbox", *inbox_columns())
    op.create_table("outbox", *outbox_columns())


def downgrade() -> None:
    for table in ("outbox", "inbox", "suppressions", "products", "appetences", "engagement_counts", "order_lines",
                  "orders", "channel_blocks", "consent_history", "consents", "identifiers", "customers"):
        op.drop_table(table)
