"""Consumes `customer_erased` records from the hand-off stream (consumer group "ingest").

Profile publishes them when a person exercises the right to erasure. Ingest
forgets the person's identifiers and keeps only their hashes, so that an event
naming them later is refused instead of silently recreating the person.
"""

from __future__ import annotations

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
