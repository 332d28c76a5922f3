"""Applying the hand-off from ingest: each record once (inbox), in the same transaction as its effect."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from declic.kit.identifiers import identifier_hash
from services.profile.domain.commands import (
    ApplyEvent,
    EventContext,
    RecordEngagement,
    RecordInterest,
    RecordOrder,
    UpdateContact,
    UpsertProduct,
)
from services.profile.domain.consents import DENIED, Consent
from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE
from services.profile.domain.orders import to_epoch
from services.profile.domain.rules import ProfileRules
from services.profile.handoff import erase_command, event_command, merge_command, split_command
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.erasure import ErasureRepository
from services.profile.storage.facts import FactRepository
from services.profile.storage.merges import MergeRepository
from services.profile.storage.tables import ERASED, inbox

log = logging.getLogger("declic.profile")

# Engagements that withdraw consent on the channel, and those that make the address unusable.
WITHDRAWING = {"unsubscribed": "unsubscribe link", "complained": "spam complaint"}
BLOCKING = {"bounced", "complained"}


class ProfileUpdater(HandoffHandler):
    """The hand-off stream's handler: each record applied once (kit inbox), in the same transaction as its effect."""

    def __init__(self, uow: UnitOfWork, clock: Clock, rules: ProfileRules) -> None:
        super().__init__(uow, inbox, clock)
        self._rules = rules

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        self._apply_event(session, event_command(accepted, now), now)

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

    def _apply_event(self, session: Session, command: ApplyEvent, now: datetime) -> None:
        context, action = command.context, command.action
        facts = FactRepository(session)
        if isinstance(action, UpsertProduct):
            self._catalogue_product(facts, action, context)
            return
        if not context.customer_id:
            return
        customers = CustomerRepository(session)
        resolved = customers.resolve(context.customer_id)
        if resolved is not None and resolved[1] == ERASED:
            return  # an erased person's late events must not bring anything back
        hashes = [identifier_hash(id_type, value) for id_type, value in context.identifiers]
        if resolved is None and ErasureRepository(session).any_suppressed(hashes):
            log.info("event %s ignored: its identifiers belong to an erased person", context.event_id)
            return
        customer_id = resolved[0] if resolved else context.customer_id
        customers.ensure(customer_id, context.event_time, now)
        added, conflicts = customers.add_identifiers(customer_id, context.identifiers, context.event_time)
        if conflicts:
            log.warning("event %s: identifiers of type %s belong to another customer", context.event_id,
                        ",".join(conflicts))
        reachability_changed = added
        if isinstance(action, UpdateContact):
            customers.update_contact(customer_id, action, context.event_time, now)
            for consent in action.consents:
                customers.record_consent(customer_id, consent, f"event {context.source}/{context.event_id}", now)
            reachability_changed = True
        elif isinstance(action, RecordOrder):
            self._record_order(facts, customer_id, action, context)
        elif isinstance(action, RecordInterest):
            self._record_interest(facts, customer_id, action, context)
        elif isinstance(action, RecordEngagement):
            self._record_engagement(customers, facts, customer_id, action, context)
            reachability_changed |= action.kind in WITHDRAWING or action.kind in BLOCKING
        if reachability_changed:  # only then can contactability or the inferred zone change
            customers.refresh_derived(customer_id)

    def _record_order(self, facts: FactRepository, customer_id: str, order: RecordOrder,
                      context: EventContext) -> None:
        catalogue = facts.add_order(customer_id, order, context.event_time)
        if catalogue is None:
            return  # already stored
        facts.refresh_order_stats(customer_id)
        if order.kind == "purchase":
            signals = []
            for line in order.lines:
                signals.extend(self._signals(line.category, catalogue.get(line.product_id)))
            self._add_interest(facts, customer_id, signals, self._rules.appetence.purchase_weight, context)

    def _catalogue_product(self, facts: FactRepository, product: UpsertProduct, context: EventContext) -> None:
        """Store the product, and give purchases made before it was known the signals they missed."""
        stored = facts.products_by_id([product.product_id]).get(product.product_id)
        lines = facts.upsert_product(product, context.event_time)
        known = facts.products_by_id([product.product_id])[product.product_id]
        if stored is not None or not lines:
            return
        for customer_id, ordered_ts, had_category in lines:
            signals = self._signals("", known)
            if had_category:  # its category signal was given when the order was applied
                signals = [signal for signal in signals if signal[0] != "category"]
            if signals:
                facts.add_interest(customer_id, signals, self._rules.appetence.purchase_weight, ordered_ts,
                                   self._rules.appetence.half_life_days)

    def _record_interest(self, facts: FactRepository, customer_id: str, interest: RecordInterest,
                         context: EventContext) -> None:
        product = facts.products_by_id([interest.product_id]).get(interest.product_id)
        weight = self._rules.appetence.cart_weight if interest.kind == "cart" else self._rules.appetence.view_weight
        self._add_interest(facts, customer_id, self._signals(interest.category, product), weight, context)

    def _add_interest(self, facts: FactRepository, customer_id: str, signals: list[tuple[str, str]], weight: float,
                      context: EventContext) -> None:
        if signals:
            facts.add_interest(customer_id, signals, weight, to_epoch(context.event_time),
                               self._rules.appetence.half_life_days)

    def _signals(self, category: str, product: object | None) -> list[tuple[str, str]]:
        """(dimension, value) pairs a product or category feeds: its category and configured attributes."""
        signals = []
        category = category or (product.category if product is not None else "")  # type: ignore[attr-defined]
        if category:
            signals.append(("category", category))
        if product is not None:
            attributes = json.loads(product.attributes)  # type: ignore[attr-defined]
            signals.extend((key, attributes[key]) for key in self._rules.appetence.attributes if attributes.get(key))
        return signals

    def _record_engagement(self, customers: CustomerRepository, facts: FactRepository, customer_id: str,
                           engagement: RecordEngagement, context: EventContext) -> None:
        facts.add_engagement(customer_id, engagement.channel, engagement.kind, context.event_time)
        if engagement.kind in WITHDRAWING:
            withdrawal = Consent(engagement.channel, DENIED, "", WITHDRAWING[engagement.kind], context.event_time)
            customers.record_consent(customer_id, withdrawal, f"{engagement.kind} message {engagement.message_id}",
                                     context.event_time)
        if engagement.kind in BLOCKING:
            address_type = CHANNEL_ADDRESS_TYPE.get(engagement.channel)
            named = [value for id_type, value in context.identifiers if id_type == address_type]
            # The event names the address that failed; without one, every address of the channel is suspect.
            addresses = named or [value for id_type, value in customers.identifiers_of(customer_id)
                                  if id_type == address_type]
            for address in addresses:
                customers.block(customer_id, engagement.channel, address, engagement.kind, context.event_time)
