"""Scenario's side of the hand-off: records from ingest become firings (idempotently)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from declic.kit.telemetry import current_context
from services.scenario.domain.catalogue import IdentifyFacts, firings_for_identify
from services.scenario.domain.firings import split_after_merge
from services.scenario.storage.firings import FiringRepository
from services.scenario.storage.tables import inbox


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        super().__init__(uow, inbox, clock)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        if accepted.event.WhichOneof("payload") != "identify" or not accepted.customer_id:
            return
        facts = IdentifyFacts(
            event_id=f"{accepted.event.source}:{accepted.event.event_id}",
            customer_id=accepted.customer_id,
            new_customer=accepted.new_customer,
            reason=accepted.event.identify.reason,
            first_name=accepted.event.identify.first_name,
        )
        repository = FiringRepository(session)
        for firing in firings_for_identify(facts, now):
            firing.trace_context = current_context()
            repository.add_once(firing)

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        repository = FiringRepository(session)
        survivor = merged.survivor_id
        for merged_id in merged.merged_ids:
            taken_over, duplicates = split_after_merge(
                survivor, repository.for_customer(survivor), repository.for_customer(merged_id)
            )
            repository.give_to([firing.firing_id for firing in taken_over], survivor)
            for firing_id, settlement in duplicates.items():
                repository.settle(firing_id, settlement)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        FiringRepository(session).forget_customer(erased.customer_id)
