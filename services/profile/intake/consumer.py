"""Profile's hand-off consumer: each record from ingest applied once (kit inbox), in the same transaction as its
effect, a whole batch at a time.

The stream consumer hands over a batch of records (`handle_batch`, one transaction): their inbox ids are claimed
in one statement, then the records are applied in waves (domain.waves): each wave's customer events together
(intake.events), its merges together (storage.merges), then its splits, erasures and catalogue changes one by
one — the profiles of applying every record in turn (tests/integration/profile/test_batches.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime

from google.protobuf.message import DecodeError
from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.failures import RecordFailed
from declic.kit.handoff import HandoffHandler
from declic.kit.inbox import claim_records
from declic.kit.telemetry import continued_span, tracing_enabled
from services.profile.domain.commands import (
    ApplyEvent,
    EraseCustomer,
    HandoffCommand,
    MergeCustomers,
    SplitCustomer,
    UpsertProduct,
)
from services.profile.domain.rules import ProfileRules
from services.profile.domain.waves import plan_waves
from services.profile.intake.events import EventBatch
from services.profile.intake.signals import appetence_signals, signals_of
from services.profile.intake.translation import command_of
from services.profile.storage.bulk import BulkRepository, StaleFigures
from services.profile.storage.erasure import ErasureRepository
from services.profile.storage.facts import FactRepository
from services.profile.storage.merges import MergeRepository
from services.profile.storage.splits import SplitRepository
from services.profile.storage.tables import inbox


class ProfileIntake(HandoffHandler):
    """The hand-off stream's handler (kit base): each record applied once, in the same transaction as its effect."""

    def __init__(self, uow: UnitOfWork, clock: Clock, rules: ProfileRules) -> None:
        super().__init__(uow, inbox, clock)
        self._rules = rules

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        """Apply every record in one transaction; records seen before (or twice in the batch) are skipped."""
        now = self._clock.now()
        records = []
        for index, payload in enumerate(payloads):
            try:
                records.append(handoff_pb2.HandoffRecord.FromString(payload))
            except DecodeError as exc:  # this record is bad: the consumer applies the others around it
                raise RecordFailed(index) from exc
        with ExitStack() as spans:
            if tracing_enabled():  # each record's span continues the trace it was handed off in
                for record in records:
                    spans.enter_context(continued_span(f"handoff.apply {record.WhichOneof('body') or 'unknown'}",
                                                       record.trace_context,
                                                       **{"declic.record_id": record.record_id}))
            with self._uow.begin() as session:
                fresh = claim_records(session, inbox, [record.record_id for record in records], now)
                commands = []
                for index, record in enumerate(records):
                    if record.record_id in fresh:
                        fresh.discard(record.record_id)
                        try:
                            commands.append(command_of(record, now))
                        except Exception as exc:  # noqa: BLE001 - a record that cannot be translated is named
                            raise RecordFailed(index) from exc
                self._apply(session, [command for command in commands if command is not None], now)
                session.commit()

    def _apply(self, session: Session, commands: Sequence[HandoffCommand], now: datetime) -> None:
        """The commands in waves: each wave's events, then its merges, then the rest one by one."""
        bulk = BulkRepository(session)
        mentioned = {customer_id for command in commands for customer_id in _customer_ids(command)}
        resolved = bulk.resolve(mentioned)
        surviving = {customer_id: found[0] for customer_id, found in resolved.items()}
        stale = StaleFigures()
        for number, wave in enumerate(plan_waves(commands, surviving)):
            # Before the first wave's events nothing has changed: the resolution just read still holds.
            EventBatch(session, self._rules, now).apply(wave.events, stale, resolved if number == 0 else None)
            MergeRepository(session, self._rules).merge_all(
                [(merge.survivor_id, merge.merged_ids) for merge in wave.merges], now, stale)
            for command in wave.others:
                self._apply_alone(session, command, now)
        bulk.refresh(stale)

    def _apply_alone(self, session: Session, command: HandoffCommand, now: datetime) -> None:
        if isinstance(command, SplitCustomer):
            SplitRepository(session).split(command.from_customer_id, command.new_customer_id, command.identifiers,
                                           now)
        elif isinstance(command, EraseCustomer):  # profile's own erasures come back here too: a no-op then
            ErasureRepository(session).erase(command.customer_id, command.identifier_hashes, now)
        elif isinstance(command, ApplyEvent) and isinstance(command.action, UpsertProduct):
            self._catalogue_product(session, command.action, command.context.event_time)

    def _catalogue_product(self, session: Session, product: UpsertProduct, at: datetime) -> None:
        """Store the product, and give purchases made before it was known the signals they missed."""
        facts = FactRepository(session)
        stored = facts.products_by_id([product.product_id]).get(product.product_id)
        lines = facts.upsert_product(product, at)
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


def _customer_ids(command: HandoffCommand) -> tuple[str, ...]:
    if isinstance(command, ApplyEvent):
        return (command.context.customer_id,) if command.context.customer_id else ()
    if isinstance(command, MergeCustomers):
        return (command.survivor_id, *command.merged_ids)
    return ()
