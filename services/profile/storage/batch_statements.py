"""The statements of storage.bulk, built once: each runs over a whole batch of rows or keys (storage.sets)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from declic.kit.sql_sets import BatchInsert, BatchLookup
from services.profile.domain.commands import PURCHASE
from services.profile.domain.identifiers import CHANNELS
from services.profile.storage.tables import (
    appetences,
    channel_blocks,
    consents,
    customers,
    engagement_counts,
    identifiers,
    orders,
    suppressions,
)


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
ADD_POINTERS = BatchInsert(customers, ["customer_id", "status", "survivor_id", "updated_at"])
ADD_IDENTIFIERS = BatchInsert(identifiers, ["id_type", "value", "customer_id", "first_seen_at"],
                              _ignoring(["id_type", "value"]))
ADD_ORDERS = BatchInsert(orders, [c.name for c in orders.columns], lambda insert: insert.on_conflict_do_nothing(
    index_elements=["order_id", "kind"]).returning(orders.c.order_id, orders.c.kind))
PUT_ENGAGEMENT = BatchInsert(engagement_counts, ["customer_id", "channel", "kind", "count", "last_at"],
                             _replacing(["customer_id", "channel", "kind"], ["count", "last_at"]))
ADD_ENGAGEMENT = BatchInsert(engagement_counts, ["customer_id", "channel", "kind", "count", "last_at"],
                             _engagement_conflict)
PUT_APPETENCES = BatchInsert(appetences, ["customer_id", "dimension", "value", "score", "anchor_ts"],
                             _replacing(["customer_id", "dimension", "value"], ["score", "anchor_ts"]))
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
DERIVED_OF = BatchLookup([customers.c.customer_id], select(
    customers.c.customer_id, customers.c.attributes, customers.c.inferred_timezone,
    *(customers.c[f"{channel}_contactable"] for channel in CHANNELS)).where)
CONSENTS_OF = BatchLookup([consents.c.customer_id], select(consents).where)
IDENTIFIERS_OF = BatchLookup([identifiers.c.customer_id], lambda where: select(
    identifiers.c.customer_id, identifiers.c.id_type, identifiers.c.value).where(where).order_by(
    identifiers.c.id_type, identifiers.c.value))
BLOCKS_OF = BatchLookup([channel_blocks.c.customer_id], select(channel_blocks).where)
ENGAGEMENT_OF = BatchLookup([engagement_counts.c.customer_id], select(engagement_counts).where)
APPETENCES_BY_CUSTOMER = BatchLookup([appetences.c.customer_id], select(appetences).where)
APPETENCES_OF = BatchLookup([appetences.c.customer_id, appetences.c.dimension, appetences.c.value], select(
    appetences.c.customer_id, appetences.c.dimension, appetences.c.value, appetences.c.score,
    appetences.c.anchor_ts).where)
REFRESH_ORDER_STATS = BatchLookup([customers.c.customer_id], _order_stats)
