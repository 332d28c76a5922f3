"""`kit.failures`: an outage (wait and retry) told from a bad record (set aside), and the reason a record is set aside
with: short, naming the error and where in our code, never the statement's parameters."""

from __future__ import annotations

import psycopg
import redis
from sqlalchemy.exc import DataError, OperationalError

from declic.kit.failures import REASON_CHARS, is_outage, reason_of


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:  # noqa: BLE001 - the traceback is what reason_of reads
        return caught


def test_outages_are_told_from_bad_records() -> None:
    assert is_outage(OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")))
    assert is_outage(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert is_outage(redis.ConnectionError("Connection refused"))
    assert not is_outage(DataError("INSERT", {"name": "Ann"}, psycopg.errors.StringDataRightTruncation("too long")))
    assert not is_outage(ValueError("Enum LegalBasis has no name defined for value 999"))
    assert not is_outage(KeyError("x"))


def test_a_reason_names_the_error_and_our_line_not_the_parameters() -> None:
    server_says = psycopg.errors.StringDataRightTruncation("value too long for type character varying(200)\nDETAIL")
    error = DataError("INSERT INTO customers VALUES (%(name)s)", {"name": "Ann Secret"}, server_says)
    reason = reason_of(_raised(error))
    assert reason.startswith("StringDataRightTruncation: value too long for type character varying(200) (at tests/")
    assert "Secret" not in reason and "DETAIL" not in reason
    long = reason_of(_raised(ValueError("x" * 10_000)))
    assert len(long) <= REASON_CHARS and long.endswith(")")
