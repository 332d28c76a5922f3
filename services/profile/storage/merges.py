"""Merges decided by ingest, applied to everything profile holds.

History follows the survivor; for consents the most restrictive choice wins (domain.consents.merge_consents);
contact fields keep the most recent value of the two profiles (domain.contact.merge_contact). Merges about
distinct people are applied together, one statement per table for all of them (services/profile/intake.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from declic.kit.sql_sets import delete_where_in, reassign, update_by_key
from services.profile.domain.appetence import combine
from services.profile.domain.consents import Consent, merge_consents
from services.profile.domain.contact import CONTACT_FIELDS, birth_month_day, merge_contact
from services.profile.domain.rules import ProfileRules
from services.profile.storage import batch_statements as statements
from services.profile.storage.bulk import BulkRepository, StaleFigures
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


@dataclass
class _Plan:
    """What a set of merges does: the active profiles moved into each survivor (in order), the ids never seen
    that must lead to it."""

    survivors: list[str] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)  # merged (active) customer id → survivor
    pointers: dict[str, str] = field(default_factory=dict)  # id never seen → survivor


class MergeRepository:
    def __init__(self, session: Session, rules: ProfileRules) -> None:
        self._session = session
        self._rules = rules

    def merge_all(self, merges: Sequence[tuple[str, Sequence[str]]], now: datetime, stale: StaleFigures) -> None:
        """(survivor id, merged ids) merges about distinct people (no id, nor the person it leads to, in two of
        them), applied together: the same as one after the other. The survivors' derived figures are left to
        refresh (`stale`)."""
        bulk = BulkRepository(self._session)
        plan = self._plan(merges, bulk.resolve({i for survivor, merged in merges for i in (survivor, *merged)}))
        if not plan.survivors:
            return
        bulk.ensure(dict.fromkeys(plan.survivors, now), now)  # creates and locks them
        statements.ADD_POINTERS.execute(self._session, [
            dict(customer_id=pointer, status=MERGED, survivor_id=survivor, updated_at=now)
            for pointer, survivor in sorted(plan.pointers.items())])
        if plan.moves:
            self._move_everything(plan, now)
        stale.orders.update(plan.survivors)
        stale.reachability.update(plan.survivors)

    @staticmethod
    def _plan(merges: Sequence[tuple[str, Sequence[str]]], resolved: dict[str, tuple[str, str]]) -> _Plan:
        plan = _Plan()
        for survivor_id, merged_ids in merges:
            found = resolved.get(survivor_id)
            if found is not None and found[1] != ACTIVE:
                continue  # merging into an erased person: nothing may be attached to them
            survivor = found[0] if found else survivor_id
            plan.survivors.append(survivor)
            done = {survivor}
            for merged_id in merged_ids:
                current, status = resolved.get(merged_id, (merged_id, ""))
                if current in done or status not in ("", ACTIVE):
                    continue
                done.add(current)
                # Never seen here yet: a pointer, so that its late events land on the survivor.
                (plan.pointers if status == "" else plan.moves)[current] = survivor
        return plan

    def _move_everything(self, plan: _Plan, now: datetime) -> None:
        session, moves = self._session, plan.moves
        for table in (identifiers, orders, order_lines, consent_history):
            reassign(session, table, "customer_id", moves)
        self._merge_consents(plan, now)
        blocks = [(moves[row.customer_id], row.channel, row.address, row.reason, now)
                  for row in sorted(statements.BLOCKS_OF.execute(session, moves), key=_in_order(moves))]
        BulkRepository(session).add_blocks(blocks)
        self._merge_engagement(plan)
        self._merge_appetences(plan)
        self._merge_contacts(plan, now)
        for table in (consents, channel_blocks, engagement_counts, appetences):
            delete_where_in(session, table, "customer_id", moves)
        update_by_key(session, customers, "customer_id", {
            merged: dict(status=MERGED, survivor_id=survivor, updated_at=now, **CLEARED)
            for merged, survivor in moves.items()})
        # Earlier merges into a merged profile now point straight at its survivor.
        reassign(session, customers, "survivor_id", moves)

    def _merge_consents(self, plan: _Plan, now: datetime) -> None:
        bulk = BulkRepository(self._session)
        in_force = bulk.consents({*plan.moves, *plan.survivors})
        changed: dict[tuple[str, str], Consent] = {}
        history = []
        for merged, survivor in plan.moves.items():
            channels = {channel for customer_id, channel in in_force if customer_id in (merged, survivor)}
            for channel in sorted(channels):
                ours = in_force.get((survivor, channel))
                result = merge_consents(ours, in_force.get((merged, channel)), merged)
                if result is not None and result != ours:
                    in_force[(survivor, channel)] = changed[(survivor, channel)] = result
                    history.append((survivor, result, f"merge of {merged}", now))
        bulk.put_consents(changed)
        bulk.add_consent_history(history)

    def _merge_engagement(self, plan: _Plan) -> None:
        """Counts of the merged profiles added to the survivor's (the survivor's last time kept, if it has one)."""
        rows: dict[tuple[str, str, str], tuple[int, datetime]] = {
            (row.customer_id, row.channel, row.kind): (row._mapping["count"], row.last_at) for row in
                statements.ENGAGEMENT_OF.execute(self._session, {*plan.moves, *plan.survivors})}
        sums: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        for (customer_id, channel, kind), (count, last_at) in sorted(rows.items(), key=_in_order(plan.moves)):
            survivor = plan.moves.get(customer_id)
            if survivor is not None:
                key = (survivor, channel, kind)
                ours = sums.get(key) or rows.get(key)
                sums[key] = (count, last_at) if ours is None else (ours[0] + count, ours[1])
        statements.PUT_ENGAGEMENT.execute(self._session, [
            dict(customer_id=customer_id, channel=channel, kind=kind, count=count, last_at=last_at)
            for (customer_id, channel, kind), (count, last_at) in sorted(sums.items())])

    def _merge_appetences(self, plan: _Plan) -> None:
        half_life = self._rules.appetence.half_life_days
        rows = {(row.customer_id, row.dimension, row.value): (row.score, row.anchor_ts) for row in
                statements.APPETENCES_BY_CUSTOMER.execute(self._session, {*plan.moves, *plan.survivors})}
        sums: dict[tuple[str, str, str], tuple[float, int]] = {}
        for (customer_id, dimension, value), theirs in sorted(rows.items(), key=_in_order(plan.moves)):
            survivor = plan.moves.get(customer_id)
            if survivor is not None:
                key = (survivor, dimension, value)
                ours = sums.get(key) or rows.get(key)
                sums[key] = theirs if ours is None else combine(ours, theirs, half_life)
        statements.PUT_APPETENCES.execute(self._session, [
            dict(customer_id=customer_id, dimension=dimension, value=value, score=score, anchor_ts=anchor)
            for (customer_id, dimension, value), (score, anchor) in sorted(sums.items())])

    def _merge_contacts(self, plan: _Plan, now: datetime) -> None:
        """Each contact field and attribute keeps the value set by the most recent event of either profile."""
        rows = BulkRepository(self._session).rows({*plan.moves, *plan.survivors})
        merged_into: dict[str, dict[str, Any]] = {}
        for merged, survivor in plan.moves.items():
            ours = merged_into.get(survivor) or _contact(rows[survivor])
            theirs = _contact(rows[merged])
            changes = merge_contact(ours["fields"], ours["attributes"], ours["times"], theirs["fields"],
                                    theirs["attributes"], theirs["times"])
            seen = [t for t in (ours["first_seen_at"], theirs["first_seen_at"]) if t is not None]
            merged_into[survivor] = dict(fields={**ours["fields"], **changes.fields}, attributes=changes.attributes,
                                         times=changes.field_times, first_seen_at=min(seen, default=None),
                                         birth=_birth(ours["birth"], changes.fields))
        update_by_key(self._session, customers, "customer_id", {
            survivor: dict(**contact["fields"], birth_month=contact["birth"][0], birth_day=contact["birth"][1],
                           attributes=json.dumps(contact["attributes"], sort_keys=True),
                           field_times=json.dumps(contact["times"], sort_keys=True),
                           first_seen_at=contact["first_seen_at"], updated_at=now)
            for survivor, contact in merged_into.items()})


def _in_order(moves: dict[str, str]) -> Any:
    """Sort key: rows of the merged profiles in the order they are merged, the survivors' after them."""
    position = {customer_id: n for n, customer_id in enumerate(moves)}
    return lambda item: (position.get(_customer_of(item), len(position)), item)


def _customer_of(item: Any) -> str:
    return item.customer_id if hasattr(item, "customer_id") else item[0][0]


def _contact(row: Any) -> dict[str, Any]:
    return dict(fields={name: getattr(row, name) for name in CONTACT_FIELDS}, attributes=json.loads(row.attributes),
                times=json.loads(row.field_times), first_seen_at=row.first_seen_at,
                birth=(row.birth_month, row.birth_day))


def _birth(current: tuple[int | None, int | None], changed: dict[str, str]) -> tuple[int | None, int | None]:
    if "birth_date" not in changed:
        return current
    return birth_month_day(changed["birth_date"]) or (None, None)
