"""Base for services that consume ingest's hand-off stream.

Parses each HandoffRecord, skips records already processed (inbox, in the
same transaction as the effect) and calls the method for its kind. A
service overrides only the kinds it cares about.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.message import DecodeError
from sqlalchemy import Table
from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.failures import RecordFailed, is_outage
from declic.kit.inbox import claim_record
from declic.kit.telemetry import continued_span


class HandoffHandler:
    """Callable given to a StreamConsumer: applies one record exactly once.

    `handle_batch` applies a whole batch in one transaction (the consumer uses it when it can, and
    falls back to one record at a time if the batch fails), so a busy stream costs one commit per
    batch instead of one per record.
    """

    def __init__(self, uow: UnitOfWork, inbox: Table, clock: Clock) -> None:
        self._uow = uow
        self._inbox = inbox
        self._clock = clock

    def __call__(self, payload: bytes) -> None:
        self.handle_batch([payload])

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        """Apply every record in one transaction; records seen before are skipped. A record that fails is named to
        the consumer (`RecordFailed`), unless a dependency is down; one that does not decode, before any work."""
        records = []
        for index, payload in enumerate(payloads):
            try:
                records.append(handoff_pb2.HandoffRecord.FromString(payload))
            except DecodeError as exc:
                raise RecordFailed(index) from exc
        now = self._clock.now()
        with self._uow.begin() as session:
            for index, record in enumerate(records):
                try:
                    self._apply_record(session, record, now)
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    raise RecordFailed(index) from exc
            session.commit()

    def _apply_record(self, session: Session, record: handoff_pb2.HandoffRecord, now: datetime) -> None:
        body = record.WhichOneof("body") or "unknown"
        with continued_span(f"handoff.apply {body}", record.trace_context, **{"declic.record_id": record.record_id}):
            if claim_record(session, self._inbox, record.record_id, now):
                self._dispatch(session, record, body, now)

    def _dispatch(self, session: Session, record: handoff_pb2.HandoffRecord, body: str, now: datetime) -> None:
        if body == "accepted_event":
            self.on_accepted_event(session, record.accepted_event, now)
        elif body == "customers_merged":
            self.on_customers_merged(session, record.customers_merged, now)
        elif body == "customer_split":
            self.on_customer_split(session, record.customer_split, now)
        elif body == "customer_erased":
            self.on_customer_erased(session, record.customer_erased, now)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        """An event ingest accepted."""

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        """Customers proved to be one person."""

    def on_customer_split(self, session: Session, split: handoff_pb2.CustomerSplit, now: datetime) -> None:
        """An operator split a wrong merge."""

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        """A customer was erased (GDPR): forget them."""
