"""A customer's journeys in a scenario indexed in the order they were entered: the last entry (the once-per-period
re-entry check, for every entry of the hand-off) is the index's last key, with no sort.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.drop_index("ix_journeys_customer", table_name="journeys")
    op.create_index("ix_journeys_customer", "journeys", ["customer_id", "scenario_id", "entered_at"])


def downgrade() -> None:
    op.drop_index("ix_journeys_customer", table_name="journeys")
    op.create_index("ix_journeys_customer", "journeys", ["customer_id", "scenario_id"])
