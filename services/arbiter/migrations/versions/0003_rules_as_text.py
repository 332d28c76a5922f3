"""A decision's rules as JSON text: written for a whole batch in one set-based statement (text[] unnested), which a
jsonb column would refuse without a cast per row; they are only ever read back whole.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE decisions ALTER COLUMN rules DROP DEFAULT")
    op.execute("ALTER TABLE decisions ALTER COLUMN rules TYPE text USING rules::text")
    op.execute("ALTER TABLE decisions ALTER COLUMN rules SET DEFAULT '[]'")


def downgrade() -> None:
    op.execute("ALTER TABLE decisions ALTER COLUMN rules DROP DEFAULT")
    op.execute("ALTER TABLE decisions ALTER COLUMN rules TYPE jsonb USING rules::jsonb")
    op.execute("ALTER TABLE decisions ALTER COLUMN rules SET DEFAULT '[]'")
