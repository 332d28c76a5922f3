"""Consumes `customer_erased` records from the hand-off stream (consumer group "ingest").

Profile publishes them when a person exercises the right to erasure. Ingest
forgets the person's identifiers and keeps only their hashes, so that an event
naming them later is refused instead of silently recreating the person.
"""

from __future__ import annotations

from collections.abc import Sequence

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.inbox import claim_record
from services.ingest.storage import tables
from services.ingest.storage.operator import OperatorRepository

CONSUMER_GROUP = "ingest"


class ErasureHandler:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        """The records of one read (the stream consumer calls this for several at once). Nearly all are
        ingest's own accepted events: known by their record id without being parsed, and passed over."""
        for payload in payloads:
            if not _is_accepted_event(payload):
                self(payload)

    def __call__(self, payload: bytes) -> None:
        record = handoff_pb2.HandoffRecord.FromString(payload)
        if record.WhichOneof("body") != "customer_erased":
            return  # our own records: nothing to do
        erased = record.customer_erased
        now = self._clock.now()
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            repository.serialize_writers()
            if claim_record(session, tables.inbox, record.record_id, now):
                repository.erase(erased.customer_id, list(erased.identifier_hashes), now)
            session.commit()


def _is_accepted_event(payload: bytes) -> bool:
    """True for a record whose id is an accepted event's ("evt:…", see handoff.event_record_id): the id is
    field 1, written first (tag 0x0a, then its length as a varint)."""
    if payload[:1] != b"\x0a":
        return False
    start = 1
    while start < len(payload) and payload[start] & 0x80:
        start += 1
    return payload.startswith(b"evt:", start + 1)
