"""`is_broken_connection`: which errors mean "the connection broke, nothing was committed, replay on a new one"."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError

from declic.kit.database import is_broken_connection


def _wrapped(orig: Exception, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def test_a_lost_connection_is_broken_raw_or_wrapped() -> None:
    lost = psycopg.OperationalError("the connection is lost")
    assert is_broken_connection(lost)  # COPY and hand-written statements raise psycopg's errors as they are
    assert is_broken_connection(_wrapped(lost))  # statements through SQLAlchemy come wrapped
    assert is_broken_connection(_wrapped(RuntimeError("server closed the connection"), invalidated=True))
    terminated = psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    assert is_broken_connection(terminated)  # pg_terminate_backend, a server shutting down


def test_other_errors_are_not() -> None:
    assert not is_broken_connection(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")))
    assert not is_broken_connection(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_broken_connection(ValueError("a bug"))
    assert not is_broken_connection(psycopg.errors.QueryCanceled("canceling statement due to statement timeout"))
