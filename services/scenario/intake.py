"""Scenario's side of the hand-off: records from ingest become firings (idempotently)."""

from __future__ import annotations

import logging

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.inbox import claim_record
from services.scenario.domain.catalogue import IdentifyFacts, firings_for_identify
from services.scenario.storage import FiringRepository, inbox

log = logging.getLogger("declic.scenario.intake")


class HandoffIntake:
    """Applies one HandoffRecord; a record seen before changes nothing."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, payload: bytes) -> None:
        record = handoff_pb2.HandoffRecord.FromString(payload)
        now = self._clock.now()
        with self._uow.begin() as session:
            if not claim_record(session, inbox, record.record_id, now):
                return
            repository = FiringRepository(session)
            body = record.WhichOneof("body")
            if body == "accepted_event":
                accepted = record.accepted_event
                if accepted.event.WhichOneof("payload") == "identify" and accepted.customer_id:
                    facts = IdentifyFacts(
                        event_id=f"{accepted.event.source}:{accepted.event.event_id}",
                        customer_id=accepted.customer_id,
                        new_customer=accepted.new_customer,
                        reason=accepted.event.identify.reason,
                        first_name=accepted.event.identify.first_name,
                    )
                    for firing in firings_for_identify(facts, now):
                        repository.add_once(firing)
            elif body == "customers_merged":
                for merged_id in record.customers_merged.merged_ids:
                    repository.move_customer(merged_id, record.customers_merged.survivor_id)
            elif body == "customer_erased":
                repository.forget_customer(record.customer_erased.customer_id)
            session.commit()
