"""Messages recorded by dispatch.

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
        "messages",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("scenario_id", sa.String(100), nullable=False),
        sa.Column("firing_id", sa.String(100), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_messages_customer", "messages", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_table("messages")
