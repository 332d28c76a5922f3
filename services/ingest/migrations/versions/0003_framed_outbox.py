"""One outbox row per transaction: its records framed (length-prefixed) in one payload, which the relay
splits again into one stream entry per record. Rows written one record each before are framed here.
Split pairs are indexed on their second customer too (the batch path looks them up from either side).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from declic.kit.framing import frame, unframe

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, payload FROM outbox ORDER BY id")).all()
    for row_id, payload in rows:
        connection.execute(sa.text("UPDATE outbox SET payload = :payload WHERE id = :id"),
                           {"payload": frame([bytes(payload)]), "id": row_id})
    op.create_index("ix_split_pairs_customer_b", "split_pairs", ["customer_b"])
    # A payload of a few hundred kilobytes is read once and deleted: compressing it costs more CPU than
    # storing it as it is.
    op.execute("ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_index("ix_split_pairs_customer_b", "split_pairs")
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, stream, payload FROM outbox ORDER BY id")).all()
    connection.execute(sa.text("DELETE FROM outbox"))
    for _, stream, payload in rows:  # one row per record again, in the same order
        for record in unframe(bytes(payload)):
            connection.execute(sa.text("INSERT INTO outbox (stream, payload) VALUES (:stream, :payload)"),
                               {"stream": stream, "payload": record})
