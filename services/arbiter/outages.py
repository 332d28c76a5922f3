"""Fail closed: a call to PostgreSQL or Redis is retried a few times (tenacity), then the RPC is UNAVAILABLE.

Nothing is allowed while a dependency is down; the next call tries again, so the arbiter recovers
on its own when the dependency is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from declic.kit.database import UnitOfWork
from declic.kit.errors import Unavailable
from declic.kit.failures import is_outage
from services.arbiter.storage.counters import PressureCounters
from services.arbiter.storage.decisions import DecisionRepository, Mirror

T = TypeVar("T")

ATTEMPTS = 3
FIRST_WAIT = 0.05
"""Seconds before the second attempt; then twice as long each time, at most half a second."""


def guarded(operation: Callable[[], T], dependency: str) -> T:
    """`operation()`, retried while `dependency` seems down; Unavailable when it stays down."""
    try:
        return operation()  # the usual case, without building a Retrying per call
    except Exception as exc:
        if not is_outage(exc):
            raise
    time.sleep(FIRST_WAIT)
    try:
        for attempt in Retrying(retry=retry_if_exception(is_outage), stop=stop_after_attempt(ATTEMPTS - 1),
                                wait=wait_exponential(multiplier=2 * FIRST_WAIT, max=0.5), reraise=True):
            with attempt:
                return operation()
    except Exception as exc:
        if is_outage(exc):
            raise Unavailable(f"{dependency} is unreachable: nothing was allowed, retry later") from exc
        raise
    raise AssertionError("unreachable")  # pragma: no cover - Retrying either returns or raises


def rebuild(uow: UnitOfWork, counters: PressureCounters, customer_ids: Sequence[str], since: datetime,
            keep: timedelta) -> None:
    """Mirror the people's counting slots from PostgreSQL into Redis, lazily when a script finds them missing.

    Lazily rather than at start: a start-up scan of every person would hold every replica's start for
    the size of the history, while the first decision for a person after Redis lost its data costs one
    indexed query (one per batch, whatever its people); the script's `loaded` marker makes it once per
    person (another replica loading the same person at the same time finds the marker and loads nothing)."""
    def read() -> dict[str, Mirror]:
        with uow.begin() as session:
            return DecisionRepository(session).counting_slots(customer_ids, since)

    mirrors = guarded(read, "PostgreSQL")
    guarded(lambda: counters.load_many(mirrors, keep), "Redis")
