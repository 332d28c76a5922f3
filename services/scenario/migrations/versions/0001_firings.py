"""Inbox of hand-off records and trigger firings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_columns

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("inbox", *inbox_columns())
    op.create_table(
        "firings",
        sa.Column("firing_id", sa.String(64), primary_key=True),
        sa.Column("scenario_id", sa.String(100), nullable=False),
        sa.Column("step_id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("variables", sa.Text, nullable=False),
        sa.Column("transactional", sa.Integer, nullable=False),
        sa.Column("cause_event_id", sa.String(200), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_firings_due", "firings", ["state", "next_attempt_at"])
    op.create_index("ix_firings_customer", "firings", ["customer_id"])


def downgrade() -> None:
    op.drop_table("firings")
    op.drop_table("inbox")
