"""Set-based reads and writes for many customers at once: one statement per table for a whole batch of
hand-off events, instead of one per event (see services/profile/batch.py). No rules here."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from services.profile.domain.appetence import fold_signals
from services.profile.domain.commands import PURCHASE
from services.profile.domain.computed import infer_timezone
from services.profile.domain.consents import Consent
from services.profile.domain.contactability import contactability_by_channel
from services.profile.storage.sets import BatchInsert, BatchLookup, update_by_key
from services.profile.storage.tables import (
    ACTIVE,
    appetences,
    channel_blocks,
    consent_history,
    consents,
    customers,
    engagement_counts,
    identifiers,
    order_lines,
    orders,
    suppressions,
)

MAX_MERGE_CHAIN = 20
AppetenceKey = tuple[str, str, str]  # customer id, dimension, value
Signal = tuple[AppetenceKey, float, int]  # key, weight, at (epoch seconds)


class BulkRepository:
    """Rows written in key order, so that two consumers writing overlapping batches wait for each other
    instead of deadlocking."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # --- reading -------------------------------------------------------------------------------
    def resolve(self, customer_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """id → (surviving id, status), following merges; ids never seen (or leading nowhere) are absent."""
        wanted = set(customer_ids)
        rows: dict[str, tuple[str, str | None]] = {}
        frontier = set(wanted)
        for _ in range(MAX_MERGE_CHAIN + 1):
            if not frontier:
                break
            found = {row.customer_id: (row.status, row.survivor_id)
                     for row in STATUS_OF.execute(self._session, frontier)}
            rows.update(found)
            frontier = {survivor for _, survivor in found.values() if survivor is not None} - rows.keys()
        resolved = {}
        for customer_id in wanted:
            current = customer_id
            for _ in range(MAX_MERGE_CHAIN):
                if current not in rows:
                    break
                status, survivor = rows[current]
                if survivor is None:
                    resolved[customer_id] = (current, status)
                    break
                current = survivor
            else:
                raise RuntimeError(f"merge chain longer than {MAX_MERGE_CHAIN} from {customer_id}")
        return resolved

    def suppressed(self, hashes: Collection[str]) -> set[str]:
        """Those of `hashes` that belong to an erased person."""
        if not hashes:
            return set()
        return set(SUPPRESSED.execute(self._session, hashes).scalars())

    def owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(type, value) → the customer holding that identifier, for those held."""
        if not keys:
            return {}
        return {(row.id_type, row.value): row.customer_id for row in OWNERS.execute(self._session, keys)}

    def rows(self, customer_ids: Collection[str]) -> dict[str, Any]:
        if not customer_ids:
            return {}
        return {row.customer_id: row for row in CUSTOMER_ROWS.execute(self._session, customer_ids)}

    def consents(self, customer_ids: Collection[str]) -> dict[tuple[str, str], Consent]:
        """(customer id, channel) → the consent in force."""
        if not customer_ids:
            return {}
        return {(row.customer_id, row.channel): Consent(row.channel, row.state, row.legal_basis, row.source,
                                                        row.given_at)
                for row in CONSENTS_OF.execute(self._session, customer_ids)}

    def appetences(self, keys: Collection[AppetenceKey]) -> dict[AppetenceKey, tuple[float, int]]:
        """(customer id, dimension, value) → (score, anchor_ts), for those stored."""
        if not keys:
            return {}
        return {(row.customer_id, row.dimension, row.value): (row.score, row.anchor_ts)
                for row in APPETENCES_OF.execute(self._session, keys)}

    # --- writing -------------------------------------------------------------------------------
    def ensure(self, first_seen: Mapping[str, datetime], now: datetime) -> None:
        """Create the customers that are new and remember the earliest event seen for each. Being an upsert, it
        also locks their rows until commit on PostgreSQL — even when the WHERE leaves a row unchanged, the usual
        case, which spares rewriting rows of a large table. Rows are taken in id order, so two consumers
        locking overlapping sets wait for each other instead of deadlocking."""
        ENSURE.execute(self._session, [dict(customer_id=customer_id, status=ACTIVE, first_seen_at=seen_at,
                                            updated_at=now) for customer_id, seen_at in sorted(first_seen.items())])

    def add_identifiers(self, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
        """(type, value, customer id, first seen) rows; an identifier already held stays with its holder."""
        ADD_IDENTIFIERS.execute(self._session, [
            dict(id_type=id_type, value=value, customer_id=customer_id, first_seen_at=seen_at)
            for id_type, value, customer_id, seen_at in sorted(rows)])

    def add_orders(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
        """Store orders once (by order id and kind); returns the (order id, kind) of those that were new."""
        result = ADD_ORDERS.execute(self._session, sorted(rows, key=lambda row: (row["order_id"], row["kind"])))
        return set() if result is None else {(row.order_id, row.kind) for row in result}

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        ADD_LINES.execute(self._session, rows)

    def add_engagement(self, counts: Mapping[tuple[str, str, str], tuple[int, datetime]]) -> None:
        """(customer id, channel, kind) → (how many more, latest time)."""
        ADD_ENGAGEMENT.execute(self._session, [
            dict(customer_id=customer_id, channel=channel, kind=kind, count=count, last_at=last_at)
            for (customer_id, channel, kind), (count, last_at) in sorted(counts.items())])

    def add_signals(self, signals: Sequence[Signal], half_life_days: float) -> None:
        """Add appetence signals, in the given order, to the stored decayed sums (domain.appetence)."""
        if signals:
            sums = fold_signals(self.appetences({key for key, _, _ in signals}), signals, half_life_days)
            PUT_APPETENCES.execute(self._session, [
                dict(customer_id=customer_id, dimension=dimension, value=value, score=score, anchor_ts=anchor)
                for (customer_id, dimension, value), (score, anchor) in sorted(sums.items())])

    def add_consent_history(self, rows: Sequence[tuple[str, Consent, str, datetime]]) -> None:
        """(customer id, consent, origin, recorded at) rows: the proof of every consent received."""
        ADD_CONSENT_HISTORY.execute(self._session, [dict(
            customer_id=customer_id, channel=consent.channel, state=consent.state, legal_basis=consent.legal_basis,
            source=consent.source[:200], given_at=consent.given_at, recorded_at=recorded_at, origin=origin[:200])
            for customer_id, consent, origin, recorded_at in rows])

    def put_consents(self, in_force: Mapping[tuple[str, str], Consent]) -> None:
        """(customer id, channel) → the consent now in force."""
        PUT_CONSENTS.execute(self._session, [dict(
            customer_id=customer_id, channel=channel, state=consent.state, legal_basis=consent.legal_basis,
            source=consent.source[:200], given_at=consent.given_at)
            for (customer_id, channel), consent in sorted(in_force.items())])

    def add_blocks(self, rows: Sequence[tuple[str, str, str, str, datetime]]) -> None:
        """(customer id, channel, address, reason, at) rows; an address already blocked keeps its reason (and
        the first of the batch's rows for an address is the one kept)."""
        first: dict[tuple[str, str, str], tuple[str, str, str, str, datetime]] = {}
        for row in rows:
            first.setdefault(row[:3], row)
        ADD_BLOCKS.execute(self._session, [
            dict(customer_id=customer_id, channel=channel, address=address, reason=reason, blocked_at=at)
            for customer_id, channel, address, reason, at in sorted(first.values())])

    def update_customers(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """customer id → new column values; every change must name the same columns."""
        update_by_key(self._session, customers, "customer_id", changes)

    # --- derived figures -----------------------------------------------------------------------
    def refresh_order_stats(self, customer_ids: Collection[str]) -> None:
        """Recompute the customers' lifetime figures from their stored orders (order-independent), in one
        UPDATE … FROM (aggregate)."""
        if not customer_ids:
            return
        REFRESH_ORDER_STATS.execute(self._session, customer_ids)

    def refresh_derived(self, customer_ids: Collection[str]) -> None:
        """Recompute what segment queries filter on and is derived from identifiers, consents and blocks: the
        per-channel contactable flags and the zone inferred from the phone number."""
        if not customer_ids:
            return
        attributes = {row.customer_id: json.loads(row.attributes)
                      for row in ATTRIBUTES_OF.execute(self._session, customer_ids)}
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in IDENTIFIERS_OF.execute(self._session, customer_ids):
            found[row.customer_id].append((row.id_type, row.value))
        in_force: dict[str, dict[str, Consent]] = defaultdict(dict)
        for (customer_id, channel), consent in self.consents(customer_ids).items():
            in_force[customer_id][channel] = consent
        blocks: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        for row in BLOCKS_OF.execute(self._session, customer_ids):
            blocks[row.customer_id][(row.channel, row.address)] = row.reason
        changes = {}
        for customer_id in attributes:
            result = contactability_by_channel(found[customer_id], attributes[customer_id], in_force[customer_id],
                                               blocks[customer_id])
            changes[customer_id] = dict(inferred_timezone=infer_timezone(found[customer_id]),
                                        **{f"{channel}_contactable": state.contactable
                                           for channel, state in result.items()})
        self.update_customers(changes)


def _ensure_conflict(insert: Any) -> Any:
    seen_earlier = insert.excluded.first_seen_at
    return insert.on_conflict_do_update(index_elements=["customer_id"], set_={"first_seen_at": seen_earlier},
                                        where=or_(customers.c.first_seen_at.is_(None),
                                                  seen_earlier < customers.c.first_seen_at))


def _engagement_conflict(insert: Any) -> Any:
    table, new = engagement_counts.c, insert.excluded
    return insert.on_conflict_do_update(index_elements=["customer_id", "channel", "kind"], set_={
        "count": table.count + new.count,
        "last_at": case((new.last_at > table.last_at, new.last_at), else_=table.last_at)})


def _replacing(keys: list[str], names: Sequence[str]) -> Callable[[Any], Any]:
    return lambda insert: insert.on_conflict_do_update(index_elements=keys, set_={
        name: getattr(insert.excluded, name) for name in names})


def _ignoring(keys: list[str]) -> Callable[[Any], Any]:
    return lambda insert: insert.on_conflict_do_nothing(index_elements=keys)


ENSURE = BatchInsert(customers, ["customer_id", "status", "first_seen_at", "updated_at"], _ensure_conflict)
ADD_IDENTIFIERS = BatchInsert(identifiers, ["id_type", "value", "customer_id", "first_seen_at"],
                              _ignoring(["id_type", "value"]))
ADD_ORDERS = BatchInsert(orders, [c.name for c in orders.columns], lambda insert: insert.on_conflict_do_nothing(
    index_elements=["order_id", "kind"]).returning(orders.c.order_id, orders.c.kind))
ADD_LINES = BatchInsert(order_lines, [c.name for c in order_lines.columns])
ADD_ENGAGEMENT = BatchInsert(engagement_counts, ["customer_id", "channel", "kind", "count", "last_at"],
                             _engagement_conflict)
PUT_APPETENCES = BatchInsert(appetences, ["customer_id", "dimension", "value", "score", "anchor_ts"],
                             _replacing(["customer_id", "dimension", "value"], ["score", "anchor_ts"]))
ADD_CONSENT_HISTORY = BatchInsert(consent_history, [c.name for c in consent_history.columns if c.name != "id"])
PUT_CONSENTS = BatchInsert(consents, ["customer_id", "channel", "state", "legal_basis", "source", "given_at"],
                           _replacing(["customer_id", "channel"], ["state", "legal_basis", "source", "given_at"]))
ADD_BLOCKS = BatchInsert(channel_blocks, ["customer_id", "channel", "address", "reason", "blocked_at"],
                         _ignoring(["customer_id", "channel", "address"]))


def _order_stats(where: Any) -> Any:
    """UPDATE … FROM (the aggregate of the customers' orders): lifetime figures, order-independent."""
    is_purchase = orders.c.kind == PURCHASE
    stats = (
        select(
            customers.c.customer_id,
            func.count(orders.c.order_id).filter(is_purchase).label("order_count"),
            func.min(orders.c.ordered_ts).filter(is_purchase).label("first_ts"),
            func.max(orders.c.ordered_ts).filter(is_purchase).label("last_ts"),
            func.coalesce(func.sum(case((is_purchase, orders.c.amount_cents), else_=-orders.c.amount_cents)), 0)
            .label("monetary"),
            func.count(orders.c.order_id).filter(and_(is_purchase, orders.c.discount_cents > 0)).label("discounted"),
            func.coalesce(func.max(orders.c.currency), "").label("currency"),
        )
        .select_from(customers.outerjoin(orders, orders.c.customer_id == customers.c.customer_id))
        .where(where)
        .group_by(customers.c.customer_id)
        .subquery()
    )
    # Mean time between consecutive purchases, in whole seconds (see domain.orders.OrderStats).
    interval = case((stats.c.order_count >= 2, (stats.c.last_ts - stats.c.first_ts) // (stats.c.order_count - 1)),
                    else_=None)
    return update(customers).where(customers.c.customer_id == stats.c.customer_id).values(
        order_count=stats.c.order_count, first_order_ts=stats.c.first_ts, last_order_ts=stats.c.last_ts,
        avg_interval_seconds=interval, monetary_cents=stats.c.monetary, discounted_order_count=stats.c.discounted,
        currency=stats.c.currency)


STATUS_OF = BatchLookup([customers.c.customer_id], select(customers.c.customer_id, customers.c.status,
                                                          customers.c.survivor_id).where)
SUPPRESSED = BatchLookup([suppressions.c.identifier_hash], select(suppressions.c.identifier_hash).where)
OWNERS = BatchLookup([identifiers.c.id_type, identifiers.c.value],
                     select(identifiers.c.id_type, identifiers.c.value, identifiers.c.customer_id).where)
CUSTOMER_ROWS = BatchLookup([customers.c.customer_id], select(customers).where)
ATTRIBUTES_OF = BatchLookup([customers.c.customer_id], select(customers.c.customer_id, customers.c.attributes).where)
CONSENTS_OF = BatchLookup([consents.c.customer_id], select(consents).where)
IDENTIFIERS_OF = BatchLookup([identifiers.c.customer_id], lambda where: select(
    identifiers.c.customer_id, identifiers.c.id_type, identifiers.c.value).where(where).order_by(
    identifiers.c.id_type, identifiers.c.value))
BLOCKS_OF = BatchLookup([channel_blocks.c.customer_id], select(channel_blocks).where)
APPETENCES_OF = BatchLookup([appetences.c.customer_id, appetences.c.dimension, appetences.c.value], select(
    appetences.c.customer_id, appetences.c.dimension, appetences.c.value, appetences.c.score,
    appetences.c.anchor_ts).where)
REFRESH_ORDER_STATS = BatchLookup([customers.c.customer_id], _order_stats)
