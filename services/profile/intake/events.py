"""Applying a run of hand-off events at once: read what they need in a few statements, apply the rules in
memory in the events' order, write the outcome in a few statements — the same profiles as applying them one
at a time (tests/integration/profile/test_batches.py checks it on random histories cut at random).

A run holds the customer events of one wave (domain.waves): merges, splits, erasures and catalogue changes are
applied between runs (services/profile/intake/consumer.py).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from declic.kit.identifiers import identifier_hash
from services.profile.domain.commands import (
    PURCHASE,
    ApplyEvent,
    EventAction,
    EventContext,
    RecordEngagement,
    RecordInterest,
    RecordOrder,
    UpdateContact,
    UpsertProduct,
)
from services.profile.domain.consents import DENIED, Consent, fold_consents
from services.profile.domain.contact import CONTACT_FIELDS, birth_month_day, fold_contact_updates
from services.profile.domain.contactability import POSTAL_ADDRESS_ATTRIBUTE
from services.profile.domain.engagement import BLOCKING, WITHDRAWING
from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE
from services.profile.domain.orders import to_epoch
from services.profile.domain.rules import ProfileRules
from services.profile.intake.order_rows import line_rows, order_row
from services.profile.intake.signals import appetence_signals, signals_of
from services.profile.storage.bulk import BulkRepository, Signal, StaleFigures
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.facts import FactRepository
from services.profile.storage.tables import ERASED

log = logging.getLogger("declic.profile")

ADDRESS_TYPES = frozenset(CHANNEL_ADDRESS_TYPE.values())


@dataclass(frozen=True)
class _Event:
    customer_id: str  # the surviving customer the event lands on
    context: EventContext
    action: EventAction


class EventBatch:
    """One run of customer events, applied together inside the caller's transaction."""

    def __init__(self, session: Session, rules: ProfileRules, now: datetime) -> None:
        self._session = session
        self._rules = rules
        self._now = now
        self._bulk = BulkRepository(session)

    def apply(self, commands: Sequence[ApplyEvent], stale: StaleFigures,
              resolved: Mapping[str, tuple[str, str]] | None = None) -> None:
        """Apply the events, and add to `stale` the customers whose derived figures they change; `resolved`:
        BulkRepository.resolve of (at least) their customer ids, when the caller has it and nothing has changed
        since."""
        if not commands:
            return
        events = self._addressed(commands, resolved)
        if not events:
            return
        first_seen: dict[str, datetime] = {}
        for event in events:
            seen = first_seen.get(event.customer_id)
            first_seen[event.customer_id] = event.context.event_time if seen is None else min(
                seen, event.context.event_time)
        self._bulk.ensure(first_seen, self._now)  # creates, and locks, every customer of the run
        reachability_changed = self._attach_identifiers(events)
        wanted = {line.product_id for event in events if isinstance(event.action, RecordOrder)
                  for line in event.action.lines}
        wanted.update(event.action.product_id for event in events if isinstance(event.action, RecordInterest))
        catalogue = FactRepository(self._session).products_by_id(list(wanted))
        stored = self._store_orders(events, catalogue)
        self._feed_appetences(events, stored, catalogue)
        self._count_engagement(events)
        reachability_changed |= self._record_consents_and_blocks(events)
        self._update_contacts(events)
        stale.orders.update(event.customer_id for event in events if id(event) in stored)
        stale.reachability.update(reachability_changed)  # only there can contactability or the zone change

    def _addressed(self, commands: Sequence[ApplyEvent],
                   resolved: Mapping[str, tuple[str, str]] | None) -> list[_Event]:
        """The events with the customer they land on: merged-away ids lead to the survivor; events of erased
        people, or of new ids naming an erased person's identifiers, are dropped."""
        wanted = [command for command in commands
                  if command.context.customer_id and not isinstance(command.action, UpsertProduct)]
        if resolved is None:
            resolved = self._bulk.resolve({command.context.customer_id for command in wanted})
        hashes = {id(command): {identifier_hash(id_type, value) for id_type, value in command.context.identifiers}
                  for command in wanted if command.context.customer_id not in resolved}
        suppressed = self._bulk.suppressed(set().union(*hashes.values()))
        created: set[str] = set()
        events = []
        for command in wanted:
            customer_id = command.context.customer_id
            found = resolved.get(customer_id)
            if found is not None:
                if found[1] == ERASED:
                    continue  # an erased person's late events must not bring anything back
                customer_id = found[0]
            elif customer_id not in created:
                if hashes[id(command)] & suppressed:
                    log.info("event %s ignored: its identifiers belong to an erased person", command.context.event_id)
                    continue
                created.add(customer_id)
            events.append(_Event(customer_id, command.context, command.action))
        return events

    def _attach_identifiers(self, events: list[_Event]) -> set[str]:
        """Every event's identifiers go to its customer unless someone holds them already (ingest decides
        identity, and tells us with a merge); returns the customers who got a new address."""
        owners = self._bulk.owners({key for event in events for key in event.context.identifiers})
        rows = []
        changed = set()
        for event in events:
            conflicts = []
            for key in dict.fromkeys(event.context.identifiers):
                owner = owners.get(key)
                if owner is None:
                    owners[key] = event.customer_id
                    rows.append((*key, event.customer_id, event.context.event_time))
                    if key[0] in ADDRESS_TYPES:  # an address: contactability or the inferred zone may change
                        changed.add(event.customer_id)
                elif owner != event.customer_id:
                    conflicts.append(key[0])
            if conflicts:
                log.warning("event %s: identifiers of type %s belong to another customer", event.context.event_id,
                            ",".join(conflicts))
        self._bulk.add_identifiers(rows)
        return changed

    def _store_orders(self, events: list[_Event], catalogue: dict[str, Any]) -> dict[int, RecordOrder]:
        """Store each order once (the first delivery wins) with its lines; returns the new orders by event."""
        first: dict[tuple[str, str], tuple[_Event, RecordOrder]] = {}
        for event in events:
            if isinstance(event.action, RecordOrder):
                first.setdefault((event.action.order_id, event.action.kind), (event, event.action))
        new = self._bulk.add_orders([order_row(event.customer_id, order, event.context.event_time)
                                     for event, order in first.values()])
        stored = [(event, order) for key, (event, order) in first.items() if key in new]
        self._bulk.add_lines([line for event, order in stored
                              for line in line_rows(event.customer_id, order, event.context.event_time, catalogue)])
        return {id(event): order for event, order in stored}

    def _feed_appetences(self, events: list[_Event], stored: dict[int, RecordOrder], catalogue: dict[str, Any]) -> None:
        rules = self._rules.appetence
        signals: list[Signal] = []
        for event in events:
            action = event.action
            if isinstance(action, RecordOrder) and action.kind == PURCHASE and id(event) in stored:
                found = [signal for line in action.lines
                         for signal in signals_of(line.category, catalogue.get(line.product_id), rules.attributes)]
                weight = rules.purchase_weight
            elif isinstance(action, RecordInterest):
                found = signals_of(action.category, catalogue.get(action.product_id), rules.attributes)
                weight = rules.cart_weight if action.kind == "cart" else rules.view_weight
            else:
                continue
            signals.extend(appetence_signals(event.customer_id, found, weight, to_epoch(event.context.event_time)))
        self._bulk.add_signals(signals, rules.half_life_days)

    def _count_engagement(self, events: list[_Event]) -> None:
        counts: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        for event in events:
            if isinstance(event.action, RecordEngagement):
                key = (event.customer_id, event.action.channel, event.action.kind)
                count, last_at = counts.get(key, (0, event.context.event_time))
                counts[key] = (count + 1, max(last_at, event.context.event_time))
        self._bulk.add_engagement(counts)

    def _record_consents_and_blocks(self, events: list[_Event]) -> set[str]:
        """Consents given (identify) or withdrawn (unsubscribe, complaint) — all kept as proof, the newest in
        force — and addresses blocked; returns the customers whose reachability may have changed."""
        received: list[tuple[str, Consent, str, datetime]] = []
        blocks: list[tuple[str, str, str, str, datetime]] = []
        changed = set()
        for event in events:
            action, context, customer_id = event.action, event.context, event.customer_id
            if isinstance(action, UpdateContact):
                origin = f"event {context.source}/{context.event_id}"
                received.extend((customer_id, consent, origin, self._now) for consent in action.consents)
                if action.consents or POSTAL_ADDRESS_ATTRIBUTE in action.attributes:  # else reachability is as it was
                    changed.add(customer_id)
            elif isinstance(action, RecordEngagement) and (action.kind in WITHDRAWING or action.kind in BLOCKING):
                changed.add(customer_id)
                if action.kind in WITHDRAWING:
                    withdrawal = Consent(action.channel, DENIED, "", WITHDRAWING[action.kind], context.event_time)
                    received.append((customer_id, withdrawal, f"{action.kind} message {action.message_id}",
                                     context.event_time))
                if action.kind in BLOCKING:
                    blocks.extend((customer_id, action.channel, address, action.kind, context.event_time)
                                  for address in self._failed_addresses(event, action))
        self._bulk.add_consent_history(received)
        in_force = self._bulk.consents({customer_id for customer_id, *_ in received})
        self._bulk.put_consents(fold_consents(in_force, [(customer_id, consent)
                                                         for customer_id, consent, *_ in received]))
        self._bulk.add_blocks(blocks)
        return changed

    def _failed_addresses(self, event: _Event, engagement: RecordEngagement) -> list[str]:
        """The address the event names; without one, every address of the channel is suspect (such an event
        closes its run, so the customer's identifiers are those they had then)."""
        address_type = CHANNEL_ADDRESS_TYPE.get(engagement.channel)
        named = [value for id_type, value in event.context.identifiers if id_type == address_type]
        return named or [value for id_type, value in CustomerRepository(self._session).identifiers_of(
            event.customer_id) if id_type == address_type]

    def _update_contacts(self, events: list[_Event]) -> None:
        """Each identified customer's fields and attributes, newest information first whatever the order."""
        updates: dict[str, list[tuple[UpdateContact, datetime]]] = defaultdict(list)
        for event in events:
            if isinstance(event.action, UpdateContact):
                updates[event.customer_id].append((event.action, event.context.event_time))
        rows = self._bulk.rows(updates.keys())
        changes = {}
        for customer_id, sequence in updates.items():
            row = rows[customer_id]
            folded = fold_contact_updates(json.loads(row.attributes), json.loads(row.field_times), sequence)
            month_day = (row.birth_month, row.birth_day)
            if "birth_date" in folded.fields:
                month_day = birth_month_day(folded.fields["birth_date"]) or (None, None)
            changes[customer_id] = {
                **{name: getattr(row, name) for name in CONTACT_FIELDS}, **folded.fields,
                "birth_month": month_day[0], "birth_day": month_day[1],
                "attributes": json.dumps(folded.attributes, sort_keys=True),
                "field_times": json.dumps(folded.field_times, sort_keys=True), "updated_at": self._now,
            }
        self._bulk.update_customers(changes)

