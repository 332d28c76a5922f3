"""Product ids of up to 128 characters, as ingest accepts them (services/ingest/domain/rules.py MAX_ID_LENGTH):
at 100, an accepted order or product update with a longer id could not be applied.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
TABLES = ("popularity", "purchases", "products")


def upgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "product_id", type_=sa.String(128), existing_type=sa.String(100))


def downgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "product_id", type_=sa.String(100), existing_type=sa.String(128))
