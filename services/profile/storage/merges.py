"""Merges and splits decided by ingest, applied to everything profile holds.

History follows the survivor; for consents the most restrictive choice
wins (domain.consents.merge_consents); contact fields keep the most recent
value of the two profiles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.profile.domain.appetence import combine
from services.profile.domain.consents import merge_consents
from services.profile.domain.contact import CONTACT_FIELDS, birth_month_day
from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE
from services.profile.domain.rules import ProfileRules
from services.profile.storage.bulk import BulkRepository
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.tables import (
    ACTIVE,
    MERGED,
    appetences,
    channel_blocks,
    consent_history,
    consents,
    customers,
    engagement_counts,
    identifiers,
    order_lines,
    orders,
)

# What a merged-away row keeps: nothing personal, only where to find the survivor.
CLEARED = dict(first_name="", last_name="", birth_date="", birth_month=None, birth_day=None, locale="", timezone="",
               inferred_timezone="",
               attributes="{}", field_times="{}", order_count=0, first_order_ts=None, last_order_ts=None,
               avg_interval_seconds=None, monetary_cents=0, discounted_order_count=0, currency="",
               email_contactable=False, sms_contactable=False, push_contactable=False, print_contactable=False,
               call_center_contactable=False)


class MergeRepository:
    def __init__(self, session: Session, rules: ProfileRules) -> None:
        self._session = session
        self._rules = rules
        self._customers = CustomerRepository(session)

    def merge(self, survivor_id: str, merged_ids: Sequence[str], now: datetime) -> None:
        resolved = self._customers.resolve(survivor_id)
        if resolved is not None and resolved[1] != ACTIVE:
            return  # merging into an erased person: nothing may be attached to them
        survivor = resolved[0] if resolved else survivor_id
        self._customers.ensure(survivor, now, now)
        self._customers.lock(survivor)
        for merged_id in merged_ids:
            found = self._customers.resolve(merged_id)
            if found is None:
                # Never seen here yet: leave a pointer so its late events land on the survivor.
                self._session.execute(customers.insert().values(
                    customer_id=merged_id, status=MERGED, survivor_id=survivor, updated_at=now))
                continue
            current, status = found
            if current == survivor or status != ACTIVE:
                continue
            self._move_everything(current, survivor, now)
        bulk = BulkRepository(self._session)
        bulk.refresh_order_stats([survivor])
        bulk.refresh_derived([survivor])

    def _move_everything(self, merged: str, survivor: str, now: datetime) -> None:
        session = self._session
        for table in (identifiers, orders, order_lines, consent_history):
            session.execute(update(table).where(table.c.customer_id == merged).values(customer_id=survivor))
        self._merge_consents(merged, survivor, now)
        for (channel, address), reason in self._customers.blocks_of(merged).items():
            self._customers.block(survivor, channel, address, reason, now)
        session.execute(delete(channel_blocks).where(channel_blocks.c.customer_id == merged))
        self._merge_engagement(merged, survivor)
        self._merge_appetences(merged, survivor)
        self._merge_contact(merged, survivor, now)
        session.execute(update(customers).where(customers.c.customer_id == merged)
                        .values(status=MERGED, survivor_id=survivor, updated_at=now, **CLEARED))
        # Earlier merges into `merged` now point straight at the survivor.
        session.execute(update(customers).where(customers.c.survivor_id == merged).values(survivor_id=survivor))

    def _merge_consents(self, merged: str, survivor: str, now: datetime) -> None:
        theirs = self._customers.consents_of(merged)
        ours = self._customers.consents_of(survivor)
        for channel in sorted(set(theirs) | set(ours)):
            result = merge_consents(ours.get(channel), theirs.get(channel), merged)
            if result is not None and result != ours.get(channel):
                self._customers.put_consent(survivor, result)
                self._customers.add_history(survivor, result, f"merge of {merged}", now)
        self._session.execute(delete(consents).where(consents.c.customer_id == merged))

    def _merge_engagement(self, merged: str, survivor: str) -> None:
        table = engagement_counts
        for row in self._session.execute(select(table).where(table.c.customer_id == merged)).all():
            statement = insert(table).values(
                customer_id=survivor, channel=row.channel, kind=row.kind, count=row.count, last_at=row.last_at)
            self._session.execute(statement.on_conflict_do_update(
                index_elements=["customer_id", "channel", "kind"],
                set_={"count": table.c.count + statement.excluded.count},
            ))
        self._session.execute(delete(table).where(table.c.customer_id == merged))

    def _merge_appetences(self, merged: str, survivor: str) -> None:
        half_life = self._rules.appetence.half_life_days
        ours = {(row.dimension, row.value): (row.score, row.anchor_ts) for row in self._session.execute(
            select(appetences).where(appetences.c.customer_id == survivor))}
        for row in self._session.execute(select(appetences).where(appetences.c.customer_id == merged)).all():
            key = (row.dimension, row.value)
            score, anchor = combine(ours[key], (row.score, row.anchor_ts), half_life) if key in ours else (
                row.score, row.anchor_ts)
            values = dict(score=score, anchor_ts=anchor)
            self._session.execute(
                insert(appetences)
                .values(customer_id=survivor, dimension=row.dimension, value=row.value, **values)
                .on_conflict_do_update(index_elements=["customer_id", "dimension", "value"], set_=values)
            )
        self._session.execute(delete(appetences).where(appetences.c.customer_id == merged))

    def _merge_contact(self, merged: str, survivor: str, now: datetime) -> None:
        """Each contact field and attribute keeps the value set by the most recent event of either profile."""
        theirs, ours = self._customers.row(merged), self._customers.row(survivor)
        their_times, our_times = json.loads(theirs.field_times), json.loads(ours.field_times)
        their_attributes, our_attributes = json.loads(theirs.attributes), json.loads(ours.attributes)
        values: dict[str, object] = {}
        for name in CONTACT_FIELDS:
            if getattr(theirs, name) and their_times.get(name, "") > our_times.get(name, ""):
                values[name] = getattr(theirs, name)
                our_times[name] = their_times[name]
        for key, value in their_attributes.items():
            time_key = f"attributes.{key}"
            if key not in our_attributes or their_times.get(time_key, "") > our_times.get(time_key, ""):
                our_attributes[key] = value
                our_times[time_key] = their_times.get(time_key, "")
        if "birth_date" in values:
            values["birth_month"], values["birth_day"] = birth_month_day(str(values["birth_date"])) or (None, None)
        first_seen = min((t for t in (theirs.first_seen_at, ours.first_seen_at) if t is not None), default=None)
        self._session.execute(update(customers).where(customers.c.customer_id == survivor).values(
            attributes=json.dumps(our_attributes, sort_keys=True), field_times=json.dumps(our_times, sort_keys=True),
            first_seen_at=first_seen, updated_at=now, **values))

    def split(self, from_id: str, new_id: str, moved: Sequence[tuple[str, str]], now: datetime) -> None:
        """Move the listed identifiers (and their blocked addresses) to a new customer.

        The new customer starts without consents: nobody is contacted on the
        strength of a consent that may have been given by the other person.
        """
        found = self._customers.resolve(from_id)
        if found is None or found[1] != ACTIVE:
            return
        origin = found[0]
        self._customers.lock(origin)
        self._customers.ensure(new_id, now, now)
        for id_type, value in moved:
            self._session.execute(update(identifiers).where(
                identifiers.c.id_type == id_type, identifiers.c.value == value, identifiers.c.customer_id == origin,
            ).values(customer_id=new_id))
            channels = [channel for channel, address_type in CHANNEL_ADDRESS_TYPE.items() if address_type == id_type]
            self._session.execute(update(channel_blocks).where(
                channel_blocks.c.customer_id == origin, channel_blocks.c.address == value,
                channel_blocks.c.channel.in_(channels),
            ).values(customer_id=new_id))
        BulkRepository(self._session).refresh_derived([origin, new_id])
