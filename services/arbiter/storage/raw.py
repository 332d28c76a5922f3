"""Statements of the decision path sent by psycopg itself: written out once, prepared by the server, no SQLAlchemy
compile, parameter or result processing per call (a third of a batch's CPU went there, and an IN list expanded into
one parameter per value made the text new for every batch, so psycopg parsed it again and the server never
prepared it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from declic.kit.database import is_broken_connection


@contextmanager
def driver(session: Session) -> Iterator[Any]:
    """The psycopg connection under the session. A connection found broken is invalidated, so that the pool does
    not hand it out again (SQLAlchemy does it for the statements it runs itself)."""
    connection = session.connection()
    try:
        yield connection.connection.driver_connection
    except psycopg.Error as exc:
        if is_broken_connection(exc):
            connection.invalidate(exc)
        raise


def run(session: Session, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
    """`sql` (prepared by the server after a few calls: its text never changes) with `parameters`; its rows."""
    with driver(session) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters, prepare=True)
        return cursor.fetchall()
