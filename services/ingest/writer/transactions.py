"""The transaction writer: applies groups of validated batches, each group in one transaction, replayed after
a conflict with another writer or on a new connection when the database connection broke.

One runs in the writer process (`process`), or in a thread of the gRPC process (`group_commit`).
"""

from __future__ import annotations

import logging
import random
import time

from sqlalchemy.exc import DBAPIError

from declic.kit.database import UnitOfWork, is_broken_connection
from declic.kit.errors import Unavailable
from services.ingest.domain.identity import IdentityPolicy
from services.ingest.settings import IngestSettings
from services.ingest.storage.repository import IngestRepository
from services.ingest.writer.batch import BatchWriter
from services.ingest.writer.calls import Outcome, Submission
from services.ingest.writer.identity_cache import IdentityCache
from services.ingest.writer.stats import count_outcomes

log = logging.getLogger("declic.ingest")

ATTEMPTS = 8


class TransactionWriter:
    """Applies groups of validated batches, each group in one transaction; used by one thread at a time (it
    keeps what it learnt of the identity graph between transactions)."""

    def __init__(self, uow: UnitOfWork, settings: IngestSettings, stream: str) -> None:
        self._uow = uow
        self._stream = stream
        self._policy = IdentityPolicy(dict(settings.type_limits), tuple(settings.blocklist))
        self._cache = IdentityCache()
        self.duplicates = DuplicateWatch()

    def write(self, submissions: list[Submission]) -> list[list[Outcome]]:
        """Apply queued submissions in one transaction; replayed from a fresh snapshot after a conflict."""
        look_up = True
        attempt = 1
        while True:
            try:
                with self._uow.begin() as session:
                    repository = IngestRepository(session)
                    # Writers of the identity graph take turns (one per replica, thanks to group commit): merges
                    # need a stable graph, and two replicas naming the same new e-mail must not both create it.
                    version = repository.serialize_writers()
                    self._cache.begin(version)
                    writer = BatchWriter(repository, self._policy, self._stream, cache=self._cache)
                    look_up = writer.look_up_duplicates = not self.duplicates.optimistic()
                    outcomes = writer.apply(submissions)
                    repository.add_stats(count_outcomes(submissions, outcomes))
                    session.commit()
                writer.remember(version)
                if look_up:
                    self.duplicates.looked_up(found=writer.found_received)
                return outcomes
            except Exception as exc:
                if not look_up and _violated_constraint(exc) == EVENTS_KEY:
                    # An event received before, sent again: replayed at once, with the look-up (from now on the
                    # writer looks up: once per call at most, not counted as an attempt). The cache holds nothing
                    # of the rolled-back transaction (only committed changes enter it): kept.
                    self.duplicates.missed()
                    continue
                self._cache.clear()  # another writer's changes, or a broken connection: start afresh
                broken = is_broken_connection(exc)
                if not (broken or _is_conflict(exc)) or attempt == ATTEMPTS:
                    if _is_conflict(exc):
                        raise Unavailable("too many concurrent writers on the same customers; retry later") from exc
                    if broken:
                        raise Unavailable("the database is unreachable; retry later") from exc
                    raise
                if broken:  # a restarted server, a killed connection: replayed on a new one (events are deduplicated)
                    log.warning("database connection broke during a batch (%s); replaying it", exc)
                else:
                    log.info("batch conflicted with another writer (%s); retrying", type(exc).__name__)
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
                attempt += 1


EVENTS_KEY = "events_pkey"


class DuplicateWatch:
    """Whether the next transaction should look its events up among those received before (a statement,
    and an index probe per event, on the path of every batch) or take them all as new.

    Taking them as new costs nothing while clients send nothing twice, the usual case, and a replayed
    transaction when one does (the events' key refuses the repeat). So: look up while repeats are seen;
    after `calm` transactions in a row whose look-up found none, stop looking up; start looking up again
    for the next `calm` transactions at the first repeat. A new writer starts by looking up (clients
    resend what was not acknowledged before a restart)."""

    def __init__(self, calm: int = 50) -> None:
        self.calm = calm
        self._countdown = calm
        self.replays = 0
        """Transactions replayed because an event repeated one received before (a measure of the waste)."""

    def optimistic(self) -> bool:
        return self._countdown <= 0

    def looked_up(self, found: bool) -> None:
        self._countdown = self.calm if found else self._countdown - 1

    def missed(self) -> None:
        self.replays += 1
        self._countdown = self.calm


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's error: wrapped by SQLAlchemy, or straight from psycopg for the COPY statements."""
    return exc.orig if isinstance(exc, DBAPIError) else exc


def _violated_constraint(exc: BaseException) -> str | None:
    """The constraint a unique violation names."""
    driver_error = _driver_error(exc)
    if getattr(driver_error, "sqlstate", None) != "23505":
        return None
    return getattr(getattr(driver_error, "diag", None), "constraint_name", None)


def _is_conflict(exc: Exception) -> bool:
    """Unique violation, deadlock or serialization failure: another writer won; the batch can be replayed."""
    return getattr(_driver_error(exc), "sqlstate", None) in {"23505", "40P01", "40001"}
