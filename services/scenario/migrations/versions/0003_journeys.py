"""Journeys (with their due timer), segment runs of time-based scenarios, paused scenarios.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from declic.kit.database import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("journey_id", sa.String(64), primary_key=True),
        sa.Column("scenario_id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("entered_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("cause_event_id", sa.String(200), nullable=False),
        sa.Column("waiting_for", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("goal_at", UtcDateTime(), nullable=True),
        sa.Column("variables", JSONB, nullable=False),
        sa.Column("memory", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_journeys_due", "journeys", ["due_at"], postgresql_where=sa.text("due_at IS NOT NULL"))
    op.create_index("ix_journeys_customer", "journeys", ["customer_id", "scenario_id"])
    op.create_table(
        "segment_runs",
        sa.Column("scenario_id", sa.String(100), primary_key=True),
        sa.Column("slot", sa.String(200), primary_key=True),
        sa.Column("lease_until", UtcDateTime(), nullable=False),
        sa.Column("entered", sa.Integer, nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "scenario_controls",
        sa.Column("scenario_id", sa.String(100), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scenario_controls")
    op.drop_table("segment_runs")
    op.drop_table("journeys")
