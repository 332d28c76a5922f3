"""Recommend reads the customer on a pool without pre-ping: a broken connection is replayed once, nothing else."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy.exc import DBAPIError

from declic.kit.clock import ManualClock
from services.recommend.service import RecommendService
from services.recommend.storage.interactions import CustomerState


class Reads:
    """A unit of work whose session fails `failures` times with `error`, then reads an empty customer."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    @contextmanager
    def begin(self):  # noqa: ANN201
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        yield _Connection()


class _Connection:
    def execute(self, statement, parameters, prepare=None):  # noqa: ANN001, ANN201
        return _NoRows()


class _NoRows:
    def fetchall(self) -> list:
        return []


BROKEN = DBAPIError("SELECT", {}, Exception("server closed the connection"), connection_invalidated=True)


def service(reads: Reads) -> RecommendService:
    return RecommendService(reads, holder=None, clock=ManualClock(), reads=reads)  # type: ignore[arg-type]


def test_a_broken_connection_is_replayed_once_on_a_new_one() -> None:
    reads = Reads(1, BROKEN)
    assert service(reads)._read_state("ann") == CustomerState([], {}, [], set())
    assert reads.calls == 2


def test_broken_twice_or_another_error_is_raised() -> None:
    with pytest.raises(DBAPIError):
        service(Reads(2, BROKEN))._read_state("ann")
    other = Reads(1, ValueError("a refused statement"))
    with pytest.raises(ValueError):
        service(other)._read_state("ann")
    assert other.calls == 1
