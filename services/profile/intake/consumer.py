"""Applying the hand-off from ingest: each record once (inbox), in the same transaction as its effect.

The stream consumer hands over up to a batch of records at a time (`handle_batch`, one transaction): their
inbox ids are claimed in one statement, and the customer events between two identity changes are applied
together, set-based (services/profile/batch.py). Merges, splits, erasures and catalogue changes are applied
one by one in their place in the sequence, so the result is the one of applying every record in turn.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime

from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from declic.kit.inbox import claim_records
from declic.kit.telemetry import continued_span, tracing_enabled
from services.profile.batch import EventBatch, closes_run
from services.profile.domain.commands import ApplyEvent, EventContext, UpsertProduct
from services.profile.domain.rules import ProfileRules
from services.profile.handoff import erase_command, event_command, merge_command, split_command
from services.profile.signals import appetence_signals, signals_of
from services.profile.storage.bulk import BulkRepository
from services.profile.storage.erasure import ErasureRepository
from services.profile.storage.facts import FactRepository
from services.profile.storage.merges import MergeRepository
from services.profile.storage.tables import inbox

log = logging.getLogger("declic.profile")

IDENTITY_CHANGES = {"customers_merged", "customer_split", "customer_erased"}


class ProfileUpdater(HandoffHandler):
    """The hand-off stream's handler: each record applied once (kit inbox), in the same transaction as its effect."""

    def __init__(self, uow: UnitOfWork, clock: Clock, rules: ProfileRules) -> None:
        super().__init__(uow, inbox, clock)
        self._rules = rules

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        """Apply every record in one transaction; records seen before (or twice in the batch) are skipped."""
        now = self._clock.now()
        records = [handoff_pb2.HandoffRecord.FromString(payload) for payload in payloads]
        with ExitStack() as spans:
            if tracing_enabled():  # each record's span continues the trace it was handed off in
                for record in records:
                    spans.enter_context(continued_span(f"handoff.apply {record.WhichOneof('body') or 'unknown'}",
                                                       record.trace_context,
                                                       **{"declic.record_id": record.record_id}))
            with self._uow.begin() as session:
                fresh = claim_records(session, inbox, [record.record_id for record in records], now)
                claimed = []
                for record in records:
                    if record.record_id in fresh:
                        fresh.discard(record.record_id)
                        claimed.append(record)
                self._apply_records(session, claimed, now)
                session.commit()

    def _apply_records(self, session: Session, records: Sequence[handoff_pb2.HandoffRecord], now: datetime) -> None:
        events: list[ApplyEvent] = []
        for record in records:
            body = record.WhichOneof("body")
            if body == "accepted_event":
                events.append(event_command(record.accepted_event, now))
            elif body in IDENTITY_CHANGES:
                self._apply_events(session, events, now)  # everything before it, first
                events = []
                self._dispatch(session, record, body, now)
        self._apply_events(session, events, now)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        self._apply_events(session, [event_command(accepted, now)], now)

    def _apply_events(self, session: Session, commands: Sequence[ApplyEvent], now: datetime) -> None:
        """Customer events in runs (set-based); a catalogue change between two runs."""
        run: list[ApplyEvent] = []
        for command in commands:
            if isinstance(command.action, UpsertProduct):
                EventBatch(session, self._rules, now).apply(run)
                run = []
                self._catalogue_product(session, command.action, command.context)
                continue
            run.append(command)
            if closes_run(command):
                EventBatch(session, self._rules, now).apply(run)
                run = []
        EventBatch(session, self._rules, now).apply(run)

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        command = merge_command(merged)
        MergeRepository(session, self._rules).merge(command.survivor_id, command.merged_ids, now)

    def on_customer_split(self, session: Session, split: handoff_pb2.CustomerSplit, now: datetime) -> None:
        command = split_command(split)
        MergeRepository(session, self._rules).split(command.from_customer_id, command.new_customer_id,
                                                    command.identifiers, now)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        command = erase_command(erased)  # profile's own erasures come back here too: a no-op then
        ErasureRepository(session).erase(command.customer_id, command.identifier_hashes, now)

    def _catalogue_product(self, session: Session, product: UpsertProduct, context: EventContext) -> None:
        """Store the product, and give purchases made before it was known the signals they missed."""
        facts = FactRepository(session)
        stored = facts.products_by_id([product.product_id]).get(product.product_id)
        lines = facts.upsert_product(product, context.event_time)
        if stored is not None or not lines:
            return
        known = facts.products_by_id([product.product_id])[product.product_id]
        rules = self._rules.appetence
        signals = []
        for customer_id, ordered_ts, had_category in lines:
            found = signals_of("", known, rules.attributes)
            if had_category:  # its category signal was given when the order was applied
                found = [signal for signal in found if signal[0] != "category"]
            signals.extend(appetence_signals(customer_id, found, rules.purchase_weight, ordered_ts))
        BulkRepository(session).add_signals(signals, rules.half_life_days)
