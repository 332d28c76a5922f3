"""Indexes in ListMessages' order, (created_at, message_id) newest first, for every page: of one customer's
messages and of all of them (a page is then read off the index, not sorted from the whole table).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.drop_index("ix_messages_customer", "messages")
    op.create_index("ix_messages_customer", "messages", ["customer_id", "created_at", "message_id"])
    op.create_index("ix_messages_created", "messages", ["created_at", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_created", "messages")
    op.drop_index("ix_messages_customer", "messages")
    op.create_index("ix_messages_customer", "messages", ["customer_id", "created_at"])
