"""Firings remember the trace of the event that caused them.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("firings", sa.Column("trace_context", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("firings", "trace_context")
