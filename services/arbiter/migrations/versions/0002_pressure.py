"""Pressure policy: what each decision was judged on, its slot; exclusion lists, cool-offs, the hand-off inbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_columns

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    for column in (
        sa.Column("category", sa.Text, nullable=False, server_default=""),
        sa.Column("priority", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cause_event_id", sa.Text, nullable=False, server_default=""),
        sa.Column("policy_version", sa.String(64), nullable=False, server_default=""),
        sa.Column("rules", JSONB, nullable=False, server_default="[]"),
        sa.Column("slot", sa.String(12), nullable=False, server_default=""),
        sa.Column("slot_at", UtcDateTime(), nullable=True),
        sa.Column("hold_until", UtcDateTime(), nullable=True),
        sa.Column("displaced_by", sa.String(100), nullable=False, server_default=""),
    ):
        op.add_column("decisions", column)
    op.create_table(
        "exclusions",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("list", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_exclusions_list", "exclusions", ["list", "customer_id"])
    op.create_table(
        "cool_offs",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("until", UtcDateTime(), nullable=False),
    )
    op.create_table("inbox", *inbox_columns())


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("cool_offs")
    op.drop_table("exclusions")
    for name in ("displaced_by", "hold_until", "slot_at", "slot", "rules", "policy_version", "cause_event_id",
                 "priority", "category"):
        op.drop_column("decisions", name)
