"""Key columns compared byte by byte (COLLATE "C").

Ids, sources and normalised identifiers are machine text: they need equality and a stable order, not a
language's. With the database's default collation every index comparison went through the C library's
locale-aware strcoll; in byte order they are plain memory comparisons (the batch path probes and inserts
thousands of keys per transaction).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"

COLUMNS = {
    "events": {"source": 64, "event_id": 128, "customer_id": 32},
    "identifiers": {"type": 20, "value": 320, "customer_id": 32},
    "customers": {"customer_id": 32, "merged_into": 32},
}


def _collate(collation: str) -> None:
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN {name} TYPE varchar({length}) COLLATE "{collation}"'
                            for name, length in columns.items())
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
