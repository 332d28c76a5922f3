"""Statements of the decision path sent by psycopg itself: written out once, prepared by the server, no SQLAlchemy
compile, parameter or result processing per call (a third of a batch's CPU went there, and an IN list expanded into
one parameter per value made the text new for every batch, so psycopg parsed it again and the server never
prepared it). Several statements go in one round trip (psycopg's pipeline mode)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


def run(session: Session, statements: Sequence[tuple[str, Any]]) -> list[list[tuple[Any, ...]]]:
    """Each (sql, parameters) prepared, all of them in one round trip; the rows of each, in order."""
    with driver(session) as connection:
        cursors = [connection.cursor() for _ in statements]
        try:
            if len(statements) == 1:
                cursors[0].execute(statements[0][0], statements[0][1], prepare=True)
            else:
                with connection.pipeline():
                    for cursor, (sql, parameters) in zip(cursors, statements, strict=True):
                        cursor.execute(sql, parameters, prepare=True)
            return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()
