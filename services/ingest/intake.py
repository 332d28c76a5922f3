"""Ingest's hand-off consumer: `customer_erased` records from the privacy stream (consumer group "ingest").

Profile publishes them when a person exercises the right to erasure, on the hand-off stream for every
service and on the privacy stream, which holds nothing else: ingest does not read the hand-off stream
(its own records, nearly all of it) to find the rare erasure. Ingest forgets the person's identifiers and
keeps only their hashes, so that an event naming them later is refused instead of silently recreating
the person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from services.ingest.storage import tables
from services.ingest.storage.operator import OperatorRepository

CONSUMER_GROUP = "ingest"


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        super().__init__(uow, tables.inbox, clock)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        repository = OperatorRepository(session)
        # An erasure changes the identity graph: it takes the writers' turn like a batch (writer.identity_cache).
        repository.serialize_writers()
        repository.erase(erased.customer_id, list(erased.identifier_hashes), now)
