"""Decisions taken by the arbiter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.database import UtcDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("firing_id", sa.String(100), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(100), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("defer_until", UtcDateTime(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_decisions_customer", "decisions", ["customer_id", "decided_at"])


def downgrade() -> None:
    op.drop_table("decisions")
