"""Idempotent consumers: remember each processed record in the consumer's own
database, in the same transaction as the effect of processing it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, MetaData, String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime


def inbox_columns() -> list[Column]:
    """Columns of an inbox table (shared by the table and its migration)."""
    return [
        Column("record_id", String(200), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
    ]


def inbox_table(metadata: MetaData, name: str = "inbox") -> Table:
    return Table(name, metadata, *inbox_columns())


def claim_record(session: Session, table: Table, record_id: str, processed_at: object) -> bool:
    """Mark `record_id` processed; False when it already was (then do nothing else)."""
    statement = (
        pg_insert(table)
        .values(record_id=record_id, processed_at=processed_at)
        .on_conflict_do_nothing(index_elements=["record_id"])
        .returning(table.c.record_id)
    )
    return session.execute(statement).first() is not None


def claim_records(session: Session, table: Table, record_ids: Sequence[str], processed_at: object) -> set[str]:
    """Mark many records processed in one statement; returns the ids that were not processed before
    (a batch's duplicates count once). Do nothing for the others."""
    wanted = list(dict.fromkeys(record_ids))
    if not wanted:
        return set()
    # The ids as one array: the statement's text is the same for every batch (parsed and prepared once).
    ids = func.unnest(bindparam("record_ids", wanted, type_=ARRAY(String())))
    statement = pg_insert(table).from_select(
        ["record_id", "processed_at"], select(ids, bindparam("processed_at", processed_at, type_=UtcDateTime())))
    rows = session.execute(statement.on_conflict_do_nothing(index_elements=["record_id"])
                           .returning(table.c.record_id))
    return set(rows.scalars())
