"""Writing many rows at once: COPY on PostgreSQL, executemany on SQLite.

COPY is several times faster than INSERT for the batch path (events, outbox,
new identifiers). It has no ON CONFLICT: a duplicate key fails the whole
statement, which the service layer treats as a concurrent writer and retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def copy_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` within the session's transaction."""
    if not rows:
        return
    if is_postgres(session):
        raw = session.connection().connection.driver_connection
        statement = f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
