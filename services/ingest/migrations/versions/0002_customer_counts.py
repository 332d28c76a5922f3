"""Customers carry how many identifiers of each type they hold (the guard rails read them on every
batch: a primary-key lookup instead of counting identifiers), and merged customers are indexed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

TYPES = ("crm_id", "loyalty_card", "email", "phone", "device_id", "anonymous_id")


def upgrade() -> None:
    for kind in TYPES:
        op.add_column("customers", sa.Column(f"n_{kind}", sa.Integer, nullable=False, server_default="0"))
        op.execute(f"UPDATE customers SET n_{kind} = (SELECT count(*) FROM identifiers i "
                   f"WHERE i.customer_id = customers.customer_id AND i.type = '{kind}')")
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"],
                    postgresql_where=sa.text("merged_into IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_customers_merged_into", "customers")
    with op.batch_alter_table("customers") as batch:
        for kind in TYPES:
            batch.drop_column(f"n_{kind}")
