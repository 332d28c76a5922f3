"""Text columns for what clients send (names, sources, order and product ids, categories): ingest's door bounds
their length (docs/requests.md), profile no longer refuses a value ingest accepted (a 201-character last name, a
128-character order id set a record aside). On PostgreSQL varchar(n) → text rewrites nothing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

WIDENED = {
    "customers": ["first_name", "last_name"],
    "consents": ["source"],
    "consent_history": ["source", "origin"],
    "orders": ["order_id", "original_order_id"],
    "order_lines": ["order_id", "product_id", "category"],
    "appetences": ["value"],
    "products": ["product_id", "name", "category"],
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Text())


def downgrade() -> None:
    """Not reversible: values longer than the former limits may be stored now."""
    raise NotImplementedError("0004 widens columns to text; narrowing could truncate stored values")
