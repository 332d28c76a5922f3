"""Statements of the decision path sent by psycopg itself: written out once, prepared by the server, no SQLAlchemy
compile, parameter or result processing per call (a third of a batch's CPU went there, and an IN list expanded into
one parameter per value made the text new for every batch, so psycopg parsed it again and the server never
prepared it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from declic.kit.database import is_broken_connection

Bind = Session | Connection
"""Where the statements run: an ORM session, or a plain connection (a third of a session's cost to open and close,
for the decision path)."""


@contextmanager
def driver(bind: Bind) -> Iterator[Any]:
    """The psycopg connection under `bind`. A connection found broken is invalidated, so that the pool does not hand
    it out again (SQLAlchemy does it for the statements it runs itself)."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    try:
        yield connection.connection.driver_connection
    except psycopg.Error as exc:
        if is_broken_connection(exc):
            connection.invalidate(exc)
        raise


def run(bind: Bind, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
    """`sql` (prepared by the server after a few calls: its text never changes) with `parameters`; its rows."""
    with driver(bind) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters, prepare=True)
        return cursor.fetchall()
