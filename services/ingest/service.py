"""Ingest's use cases: take events (validated here, written by the writer), catalogue changes, operator
splits, and the identity, audit and stats queries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from declic.common.v1 import event_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.errors import FailedPrecondition, InvalidArgument, NotFound, quoted
from declic.kit.identifiers import InvalidIdentifier, normalise_identifier
from declic.kit.protoconv import to_timestamp
from declic.kit.telemetry import current_context
from services.ingest import handoff
from services.ingest.domain import rules
from services.ingest.domain.identity import Identifier
from services.ingest.settings import IngestSettings
from services.ingest.storage.operator import OperatorRepository
from services.ingest.validation import EventValidator
from services.ingest.writer.batch import new_customer_id
from services.ingest.writer.calls import Outcome, Submission

AuditPosition = tuple[tuple | None, tuple | None, tuple | None]
"""Where ListIdentityAudit stands in merges, refusals and splits: a sort key, None (the start) or () (the end)."""


class Writer(Protocol):
    """Applies validated batches: `writer.group_commit.GroupWriter` (a thread) or `writer.process.WriterProcess`."""

    def submit(self, submission: Submission) -> list[Outcome]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SplitResult:
    from_customer_id: str
    new_customer_id: str
    identifiers: list[Identifier]


class IngestService:
    def __init__(self, uow: UnitOfWork, clock: Clock, stream: str, default_region: str, settings: IngestSettings,
                 writer: Writer, on_commit: Callable[[], None] = lambda: None) -> None:
        """`writer` applies the validated batches; `on_commit` is called after a split is committed (the relay's
        wake-up)."""
        self._uow = uow
        self._clock = clock
        self._stream = stream
        self._settings = settings
        self._default_region = default_region
        self._validator = EventValidator(default_region, timedelta(seconds=settings.max_future_seconds),
                                         settings.validation_cache_bytes)
        self._writer = writer
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

    def stats(self, source: str, limit: int | None = None,
              after: tuple[str, str, str] | None = None) -> list[tuple[str, str, str, int]]:
        """Counts by (source, status, reason) in that order (only `source`'s when given), `limit` of them after
        `after`."""
        with self._uow.begin() as session:
            return OperatorRepository(session).stats(source, limit, after)

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
                raise NotFound(f"customer {quoted(customer_id)} not found")
            held = set(repository.customer_identifiers(current))
            foreign = [i for i in identifiers if i not in held]
            if foreign:
                raise InvalidArgument("", [(f"identifiers[{list(identifiers).index(i)}]",
                                            f"is not an identifier of customer {quoted(current)}") for i in foreign])
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

    def audit(self, customer_id: str, limit: int, after: AuditPosition = (None, None, None)
              ) -> tuple[list, list, list]:
        """Merges and splits (of `customer_id` when given) and refused merges, `limit` of each, newest first,
        each after its sort key in `after` (None: from the start; (): none left)."""
        merges_after, refusals_after, splits_after = after
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            return (repository.list_merges(customer_id, limit, merges_after),
                    repository.list_refusals(limit, refusals_after),
                    repository.list_splits(customer_id, limit, splits_after))

    def refusal_counts(self) -> list[tuple[str, int]]:
        with self._uow.begin() as session:
            return OperatorRepository(session).refusal_counts()
