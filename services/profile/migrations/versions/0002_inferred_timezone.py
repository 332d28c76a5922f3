"""Customers: the zone inferred from their phone number (for "birthday today" without a given zone).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("customers", sa.Column("inferred_timezone", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("customers", "inferred_timezone")
