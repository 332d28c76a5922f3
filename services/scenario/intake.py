"""Scenario's side of the hand-off: accepted events enter and steer journeys (idempotently: the inbox row and
the journeys' changes are one transaction); merges and erasures follow the customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.message import DecodeError
from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.failures import is_outage
from declic.kit.handoff import HandoffHandler
from declic.kit.inbox import claim_records
from declic.kit.telemetry import current_context
from declic.scenarios.facts import event_facts
from services.scenario.domain.firings import split_after_merge
from services.scenario.domain.journeys import JourneyState
from services.scenario.domain.matching import Matcher
from services.scenario.engine import JourneyEngine
from services.scenario.idle_events import IdleEvents
from services.scenario.steering import AcceptedFacts, changes_anything
from services.scenario.storage.firings import FiringRepository
from services.scenario.storage.journeys import JourneyRepository
from services.scenario.storage.tables import inbox


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock, engine: JourneyEngine) -> None:
        super().__init__(uow, inbox, clock)
        self._engine = engine
        self._idle = IdleEvents(engine.matcher)

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        """A batch of accepted events in one go (set-based: a few statements for the whole batch); a batch with
        anything else, or one that fails, record by record as the kit does (which isolates a bad record)."""
        try:
            records = [handoff_pb2.HandoffRecord.FromString(payload) for payload in payloads]
        except DecodeError:
            records = []
        if not records or any(r.WhichOneof("body") != "accepted_event" for r in records):
            super().handle_batch(payloads)
            return
        now = self._clock.now()
        matcher = self._engine.matcher
        try:
            # Only the records that may change something are claimed and applied: one that starts no scenario and
            # steers no journey (most page views) changes nothing however often it comes.
            facts = []
            if self._idle.matcher is not matcher:  # (what it remembers holds for one catalogue)
                self._idle = IdleEvents(matcher)
            idle = self._idle
            for record in records:
                if not record.accepted_event.customer_id:
                    continue
                key = idle.key(record.accepted_event.event)
                if idle.known_idle(key):
                    continue
                item = self._facts(record, matcher, now)
                if changes_anything(matcher, item):
                    facts.append((record.record_id, item))
                else:
                    idle.remember_idle(key)
            if not facts:
                return
            with self._uow.begin() as session:
                fresh = claim_records(session, inbox, [record_id for record_id, _ in facts], now)
                items = []
                for record_id, item in facts:
                    if record_id in fresh:
                        fresh.discard(record_id)  # twice in one batch: once
                        items.append(item)
                self._engine.on_events(session, items, now)
                session.commit()
        except Exception as exc:
            if is_outage(exc):
                raise
            super().handle_batch(payloads)

    @staticmethod
    def _facts(record: handoff_pb2.HandoffRecord, matcher: Matcher, now: datetime) -> AcceptedFacts:
        accepted = record.accepted_event
        event = event_facts(accepted.event, accepted.new_customer)
        return AcceptedFacts(event, accepted.customer_id, dict(record.trace_context),
                             tuple(matcher.entries(event, now)))

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        if not accepted.customer_id:
            return
        event = event_facts(accepted.event, accepted.new_customer)
        self._engine.on_events(session, [AcceptedFacts(event, accepted.customer_id, current_context())], now)

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        repository = FiringRepository(session)
        journeys = JourneyRepository(session)
        survivor = merged.survivor_id
        for merged_id in merged.merged_ids:
            taken_over, duplicates = split_after_merge(
                survivor, repository.for_customer(survivor), repository.for_customer(merged_id)
            )
            repository.give_to([firing.firing_id for firing in taken_over], survivor)
            for firing_id, settlement in duplicates.items():
                repository.settle(firing_id, settlement)
            self._merge_journeys(journeys, survivor, merged_id, now)

    def _merge_journeys(self, journeys: JourneyRepository, survivor: str, merged_id: str, now: datetime) -> None:
        """The merged customer's open journeys go to the survivor, unless it is in the same scenario already."""
        survivor_in = {j.scenario_id for j in journeys.of_customer(survivor) if j.is_open}
        moved = []
        for journey in journeys.of_customer(merged_id, lock=True):
            if not journey.is_open:
                continue
            if journey.scenario_id in survivor_in:
                journey.state, journey.due_at = JourneyState.EXITED, None
                journey.detail = f"duplicate: merged into {survivor}, which is in this scenario already"
                journeys.save(journey, now)
            else:
                moved.append(journey.journey_id)
        journeys.give_to(moved, survivor)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        FiringRepository(session).forget_customer(erased.customer_id)
        JourneyRepository(session).forget_customer(erased.customer_id)
