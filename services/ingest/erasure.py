"""Consumes `customer_erased` records from the privacy stream (consumer group "ingest").

Profile publishes them when a person exercises the right to erasure, on the hand-off stream for every
service and on the privacy stream, which holds nothing else: ingest does not read the hand-off stream
(its own records, nearly all of it) to find the rare erasure. Ingest
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
        """The records of one read (the stream consumer calls this for several at once)."""
        for payload in payloads:
            self(payload)

    def __call__(self, payload: bytes) -> None:
        record = handoff_pb2.HandoffRecord.FromString(payload)
        if record.WhichOneof("body") != "customer_erased":
            return  # nothing else is published there; tolerated
        erased = record.customer_erased
        now = self._clock.now()
        with self._uow.begin() as session:
            repository = OperatorRepository(session)
            repository.serialize_writers()
            if claim_record(session, tables.inbox, record.record_id, now):
                repository.erase(erased.customer_id, list(erased.identifier_hashes), now)
            session.commit()

