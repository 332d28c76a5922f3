"""Consents per channel as the hand-off stream reports them (the newest wins): a channel denied there stays closed
to marketing whatever a caller believes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.database import UtcDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consents")
