"""Indexes in ListIdentityAudit's order, newest first then by record id, for every page of merges and splits
(refusals page by their primary key).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_index("ix_merges_merged_at", "merges", ["merged_at", "record_id"])
    op.create_index("ix_splits_split_at", "splits", ["split_at", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_splits_split_at", "splits")
    op.drop_index("ix_merges_merged_at", "merges")
