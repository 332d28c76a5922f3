"""Why applying a record failed: a dependency that is down (wait and retry) or the record itself (set it aside).

A consumer that mistook an outage for a bad record would set aside every record while the database is down; one
that mistook a bad record for an outage would stall behind it forever. So an outage is recognised by what it is
(a broken connection, an operational error of the database or of Redis) and anything else is the record's fault.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import psycopg
import redis
import sqlalchemy.exc

from declic.kit.database import is_broken_connection

_OUTAGES: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,  # connection lost, server shutting down, deadlock, statement timeout
    sqlalchemy.exc.TimeoutError,  # no connection free in the pool
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,  # raised as it is by COPY and hand-written statements
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionError,
    TimeoutError,
)

_ROOT = Path(__file__).resolve().parents[2]
REASON_CHARS = 300
"""A reason is cut here: it names the failure, it does not carry the input (nor personal data in it)."""


class RecordFailed(Exception):
    """Raised by a batch handler to say which of its records failed (`index` in the batch; the cause chained), so
    that the consumer applies the others around it without searching for it. A wrong index costs only time: a record
    is set aside only once it failed on its own."""

    def __init__(self, index: int) -> None:
        super().__init__(f"record {index} of the batch failed")
        self.index = index


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says a dependency (PostgreSQL, Redis) is down or overloaded, rather than that the record cannot
    be applied: the record is then retried later, never set aside."""
    exc = _cause(exc)
    return isinstance(exc, _OUTAGES) or is_broken_connection(exc)


def reason_of(exc: BaseException) -> str:
    """"<type>: <first line of the message> (at <file>:<line>)", at most `REASON_CHARS` long.

    A database error is described by the server's own first line (SQLAlchemy's text would quote the statement's
    parameters); the place is the innermost frame of our code."""
    exc = _cause(exc)
    origin = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None else exc
    lines = str(origin).strip().splitlines()
    message = lines[0] if lines else ""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if _ours(frame.filename)]
    where = f" (at {Path(frames[-1].filename).relative_to(_ROOT)}:{frames[-1].lineno})" if frames else ""
    reason = f"{type(origin).__name__}: {message}"
    limit = REASON_CHARS - len(where)
    return (reason if len(reason) <= limit else reason[:limit - 1] + "…") + where


def _cause(exc: BaseException) -> BaseException:
    """What a `RecordFailed` stands for."""
    return exc.__cause__ if isinstance(exc, RecordFailed) and exc.__cause__ is not None else exc


def _ours(filename: str) -> bool:
    """Whether `filename` is a file of this repository (not of the standard library nor of an installed package)."""
    return filename.startswith(str(_ROOT)) and not filename.startswith(str(_ROOT / ".venv"))
