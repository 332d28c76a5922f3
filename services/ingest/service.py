"""Ingest's service layer: validate, then apply each batch in one transaction (retried on conflicts)."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from declic.common.v1 import event_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork, is_broken_connection
from declic.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from declic.kit.identifiers import InvalidIdentifier, normalise_identifier
from declic.kit.protoconv import to_timestamp
from declic.kit.telemetry import current_context
from services.ingest import handoff
from services.ingest.batch import BatchWriter, Outcome, Submission, new_customer_id
from services.ingest.domain import rules
from services.ingest.domain.identity import Identifier, IdentityPolicy
from services.ingest.group_commit import GroupWriter
from services.ingest.identity_cache import IdentityCache
from services.ingest.settings import IngestSettings
from services.ingest.storage.operator import OperatorRepository
from services.ingest.storage.repository import IngestRepository
from services.ingest.validation import EventValidator

log = logging.getLogger("declic.ingest")

ATTEMPTS = 8


@dataclass(frozen=True)
class SplitResult:
    from_customer_id: str
    new_customer_id: str
    identifiers: list[Identifier]


class IngestService:
    def __init__(self, uow: UnitOfWork, clock: Clock, stream: str, default_region: str,
                 settings: IngestSettings, on_commit: Callable[[], None] = lambda: None,
                 writer: Writer | None = None) -> None:
        """`writer` applies the validated batches: by default a thread of this process (`GroupWriter`), in
        production a process of its own (`writer_process.WriterProcess`)."""
        self._uow = uow
        self._clock = clock
        self._stream = stream
        self._settings = settings
        self._default_region = default_region
        self._validator = EventValidator(default_region, timedelta(seconds=settings.max_future_seconds))
        self._writer = writer or GroupWriter(TransactionWriter(uow, settings, stream).write, on_written=on_commit)
        self._on_commit = on_commit

    @property
    def settings(self) -> IngestSettings:
        return self._settings

    def ingest(self, events: Sequence[event_pb2.Event]) -> list[Outcome]:
        """Validate and apply `events`; one outcome per event, in order. Field paths are relative to each event."""
        now = self._clock.now()
        validated = [self._validator.validate(index, event, now) for index, event in enumerate(events)]
        return self._writer.submit(Submission(validated, now, current_context()))

    def close(self) -> None:
        self._writer.close()

    def stats(self, source: str) -> list[tuple[str, str, str, int]]:
        with self._uow.begin() as session:
            return OperatorRepository(session).stats(source)

    def split(self, customer_id: str, identifiers: Sequence[Identifier], reason: str) -> SplitResult:
        """Move `identifiers` of `customer_id` to a new customer, and keep the two apart from now on."""
        if not identifiers:
            raise InvalidArgument.field("identifiers", "at least one identifier is required")
        now = self._clock.now()
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            repository.serialize_writers()
            current = repository.current_customer(customer_id)
            if current is None:
                raise NotFound(f"customer {customer_id} not found")
            held = set(repository.customer_identifiers(current))
            foreign = [i for i in identifiers if i not in held]
            if foreign:
                raise InvalidArgument("", [(f"identifiers[{list(identifiers).index(i)}]",
                                            f"is not an identifier of customer {current}") for i in foreign])
            if held <= set(identifiers):
                raise FailedPrecondition("a split must leave at least one identifier to the customer")
            new_id = new_customer_id()
            moved = sorted(set(identifiers))
            repository.add_customers([(new_id, now, None, {})])
            repository.move_identifiers(moved, new_id)
            repository.recount([current, new_id])
            repository.add_split({
                "record_id": handoff.split_record_id(current, new_id), "from_customer_id": current,
                "new_customer_id": new_id, "identifiers": "\n".join(f"{k}:{v}" for k, v in moved),
                "reason": reason, "split_at": now,
            })
            repository.add_outbox(self._stream, [handoff.customer_split(current, new_id, moved, now,
                                                                        current_context())])
            session.commit()
        self._on_commit()
        return SplitResult(current, new_id, moved)

    def upsert_products(self, source: str, products: Sequence[event_pb2.ProductUpsert],
                        updated_at: datetime | None) -> list[Outcome]:
        """Catalogue changes, applied as ProductUpsert events; replaying the same upsert is a duplicate."""
        try:
            rules.check_source(source)
        except rules.RuleViolation as exc:
            raise InvalidArgument.field("source", str(exc)) from None
        event_time = to_timestamp(updated_at or self._clock.now())
        events = []
        for product in products:
            content = hashlib.sha256(product.SerializeToString(deterministic=True) + event_time.SerializeToString())
            events.append(event_pb2.Event(
                event_id=f"product:{product.product_id}:{content.hexdigest()[:16]}"[:128], source=source,
                event_time=event_time, product_upsert=product,
            ))
        return self.ingest(events)

    def identity(self, customer_id: str = "", identifier: Identifier | None = None) -> tuple[str, list[Identifier]]:
        """A customer's current id (merged ids lead to the survivor) and identifiers, by id or by identifier."""
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            if identifier is not None:
                try:
                    value = normalise_identifier(identifier[0], identifier[1], self._default_region)
                except InvalidIdentifier as exc:
                    raise InvalidArgument.field("identifier.value", str(exc)) from None
                current = repository.owner_of((identifier[0], value))
            else:
                current = repository.current_customer(customer_id)
            if current is None:
                raise NotFound("no such customer")
            return current, repository.customer_identifiers(current)

    def audit(self, customer_id: str, limit: int) -> tuple[list, list, list]:
        """Recent merges and splits (of `customer_id` when given) and recent refused merges."""
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            return (repository.list_merges(customer_id, limit), repository.list_refusals(limit),
                    repository.list_splits(customer_id, limit))

    def refusal_counts(self) -> list[tuple[str, int]]:
        with self._uow.begin() as session:
            return OperatorRepository(session).refusal_counts()


class Writer(Protocol):
    def submit(self, submission: Submission) -> list[Outcome]: ...

    def close(self) -> None: ...


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
                    look_up = writer.look_up_duplicates = not (repository.postgres and self.duplicates.optimistic())
                    outcomes = writer.apply(submissions)
                    repository.add_stats(writer.stats())
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
    driver_error = _driver_error(exc)
    if getattr(driver_error, "sqlstate", None) in {"23505", "40P01", "40001"}:
        return True
    return isinstance(exc, DBAPIError) and "UNIQUE constraint failed" in str(driver_error)
