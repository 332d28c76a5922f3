"""Each message tells the arbiter it went out (Confirm): where that stands, and when to try again.

`arbiter`: pending (to confirm), confirmed, undecided (the arbiter has no decision for the firing: a message sent
outside arbitration) or refused (the arbiter did not allow the firing). Messages recorded before this revision are
`undecided`: whether they were ever confirmed is not known, and confirming old slots now would be wrong.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.database import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("messages", sa.Column("arbiter", sa.String(12), nullable=False, server_default="undecided"))
    op.alter_column("messages", "arbiter", server_default="pending")
    op.add_column("messages", sa.Column("arbiter_attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("arbiter_due_at", UtcDateTime(), nullable=True))
    op.create_index("ix_messages_to_confirm", "messages", ["arbiter_due_at"],
                    postgresql_where=sa.text("arbiter = 'pending'"))


def downgrade() -> None:
    op.drop_index("ix_messages_to_confirm", "messages")
    op.drop_column("messages", "arbiter_due_at")
    op.drop_column("messages", "arbiter_attempts")
    op.drop_column("messages", "arbiter")
