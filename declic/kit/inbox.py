"""Idempotent consumers: remember each processed record in the consumer's own
database, in the same transaction as the effect of processing it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime
from declic.kit.sql_sets import raw_connection


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


def claim_records(session: Session, table: Table, record_ids: Sequence[str], processed_at: datetime) -> set[str]:
    """Mark many records processed in one statement; returns the ids that were not processed before
    (a batch's duplicates count once). Do nothing for the others."""
    wanted = list(dict.fromkeys(record_ids))
    if not wanted:
        return set()
    if processed_at.tzinfo is None:
        raise ValueError("naive datetime given to an inbox's processed_at")
    # The ids as one JSON array, on the driver's connection: the statement's text is the same for every batch
    # (prepared once), and neither SQLAlchemy's statement nor psycopg's array of 500 ids (each element dumped in
    # Python) is built for it — a third of what an inbox-only consumer spent per record.
    with raw_connection(session).cursor() as cursor:
        cursor.execute(_claim_statement(table.name, table.schema), [json.dumps(wanted), processed_at])
        return {row[0] for row in cursor.fetchall()}


@cache
def _claim_statement(name: str, schema: str | None) -> str:
    table = f'"{schema}"."{name}"' if schema else f'"{name}"'
    return (f"INSERT INTO {table} (record_id, processed_at) SELECT jsonb_array_elements_text(%s::jsonb), %s"
            " ON CONFLICT (record_id) DO NOTHING RETURNING record_id")
