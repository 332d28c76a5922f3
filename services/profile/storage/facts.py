"""Order, engagement and interest facts, and the per-customer figures derived from them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from declic.kit.database import insert_for
from services.profile.domain.appetence import add_signal, decay
from services.profile.domain.commands import PURCHASE, RecordOrder, UpsertProduct
from services.profile.domain.orders import OrderStats, to_epoch
from services.profile.storage.tables import appetences, customers, engagement_counts, order_lines, orders, products


class FactRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- orders --------------------------------------------------------------------------------
    def add_order(self, customer_id: str, order: RecordOrder, ordered_at: datetime) -> dict[str, Any] | None:
        """Store an order once (by order id and kind); returns the known products of its lines,
        or None when the order was already there."""
        ordered_ts = to_epoch(ordered_at)
        inserted = self._session.execute(
            insert_for(self._session, orders)
            .values(order_id=order.order_id, kind=order.kind, customer_id=customer_id, ordered_at=ordered_at,
                    ordered_ts=ordered_ts, amount_cents=order.amount_cents, discount_cents=order.discount_cents,
                    currency=order.currency, channel=order.channel, original_order_id=order.original_order_id,
                    line_count=len(order.lines))
            .on_conflict_do_nothing(index_elements=["order_id", "kind"])
            .returning(orders.c.order_id)
        ).first()
        if inserted is None:
            return None
        catalogue = self.products_by_id([line.product_id for line in order.lines])
        rows = []
        for line_no, line in enumerate(order.lines):
            known = catalogue.get(line.product_id)
            rows.append(dict(
                order_id=order.order_id, kind=order.kind, line_no=line_no, customer_id=customer_id,
                ordered_ts=ordered_ts, product_id=line.product_id,
                category=line.category or (known.category if known else ""),
                pack_size=known.pack_size if known else "", quantity=line.quantity, amount_cents=line.amount_cents,
                catalogued=known is not None,
            ))
        if rows:
            self._session.execute(order_lines.insert(), rows)
        return catalogue

    def refresh_order_stats(self, customer_id: str) -> OrderStats:
        """Recompute the customer's lifetime figures from their stored orders (order-independent)."""
        is_purchase = orders.c.kind == PURCHASE
        row = self._session.execute(
            select(
                func.count().filter(is_purchase).label("order_count"),
                func.min(orders.c.ordered_ts).filter(is_purchase).label("first_ts"),
                func.max(orders.c.ordered_ts).filter(is_purchase).label("last_ts"),
                func.coalesce(func.sum(case((is_purchase, orders.c.amount_cents), else_=-orders.c.amount_cents)), 0)
                .label("monetary"),
                func.count().filter(and_(is_purchase, orders.c.discount_cents > 0)).label("discounted"),
                func.max(orders.c.currency).label("currency"),
            ).where(orders.c.customer_id == customer_id)
        ).one()
        stats = OrderStats(row.order_count, row.first_ts, row.last_ts, int(row.monetary), row.discounted,
                           row.currency or "")
        self._session.execute(
            update(customers).where(customers.c.customer_id == customer_id).values(
                order_count=stats.order_count, first_order_ts=stats.first_order_ts,
                last_order_ts=stats.last_order_ts, avg_interval_seconds=stats.average_interval_seconds,
                monetary_cents=stats.monetary_cents, discounted_order_count=stats.discounted_order_count,
                currency=stats.currency,
            )
        )
        return stats

    def orders_of(self, customer_id: str) -> list[dict[str, Any]]:
        """Every order with its lines (for the GDPR export)."""
        lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for line in self._session.execute(select(order_lines).where(order_lines.c.customer_id == customer_id)
                                          .order_by(order_lines.c.line_no)):
            data = dict(line._mapping)
            lines.setdefault((data.pop("order_id"), data.pop("kind")), []).append(data)
        result = []
        for row in self._session.execute(select(orders).where(orders.c.customer_id == customer_id)
                                         .order_by(orders.c.ordered_ts)):
            data = dict(row._mapping)
            data["lines"] = lines.get((row.order_id, row.kind), [])
            result.append(data)
        return result

    # --- engagement ----------------------------------------------------------------------------
    def add_engagement(self, customer_id: str, channel: str, kind: str, at: datetime) -> None:
        table = engagement_counts
        statement = insert_for(self._session, table).values(
            customer_id=customer_id, channel=channel, kind=kind, count=1, last_at=at
        )
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["customer_id", "channel", "kind"],
            set_={"count": table.c.count + 1,
                  "last_at": case((statement.excluded.last_at > table.c.last_at, statement.excluded.last_at),
                                  else_=table.c.last_at)},
        ))

    def engagement_of(self, customer_id: str) -> dict[str, dict[str, int]]:
        """channel → kind → count."""
        result: dict[str, dict[str, int]] = {}
        for row in self._session.execute(select(engagement_counts)
                                         .where(engagement_counts.c.customer_id == customer_id)):
            result.setdefault(row.channel, {})[row.kind] = row.count
        return result

    # --- appetences ----------------------------------------------------------------------------
    def add_interest(self, customer_id: str, signals: Sequence[tuple[str, str]], weight: float, at_ts: int,
                     half_life_days: float) -> None:
        """Add one signal of `weight` at `at_ts` to each (dimension, value)."""
        for dimension, value in dict.fromkeys(signals):
            key = (appetences.c.customer_id == customer_id, appetences.c.dimension == dimension,
                   appetences.c.value == value)
            row = self._session.execute(select(appetences.c.score, appetences.c.anchor_ts).where(*key)).first()
            if row is None:
                self._session.execute(appetences.insert().values(
                    customer_id=customer_id, dimension=dimension, value=value[:200], score=weight, anchor_ts=at_ts))
                continue
            score, anchor = add_signal(row.score, row.anchor_ts, weight, at_ts, half_life_days)
            self._session.execute(update(appetences).where(*key).values(score=score, anchor_ts=anchor))

    def appetence_scores(self, customer_id: str, as_of_ts: int, half_life_days: float) -> list[tuple[str, str, float]]:
        rows = self._session.execute(select(appetences).where(appetences.c.customer_id == customer_id))
        return [(row.dimension, row.value, decay(row.score, row.anchor_ts, as_of_ts, half_life_days)) for row in rows]

    # --- catalogue -----------------------------------------------------------------------------
    def upsert_product(self, product: UpsertProduct, at: datetime) -> list[tuple[str, int, bool]]:
        """Keep the newest version of a product; fill categories and pack sizes of lines stored before it.

        Returns the purchase lines stored while the product was unknown — (customer id, ordered_ts,
        whether the line had its own category) — now marked catalogued, so their missing appetence
        signals can be added once.
        """
        values = dict(name=product.name[:300], category=product.category[:200], pack_size=product.pack_size[:20],
                      attributes=json.dumps(product.attributes, sort_keys=True), updated_at=at)
        statement = insert_for(self._session, products).values(product_id=product.product_id, **values)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["product_id"], set_=values, where=products.c.updated_at <= statement.excluded.updated_at,
        ))
        current = self.products_by_id([product.product_id])[product.product_id]
        lines = order_lines.c
        uncatalogued = self._session.execute(
            select(lines.customer_id, lines.ordered_ts, lines.category)
            .where(lines.product_id == product.product_id, lines.kind == PURCHASE, lines.catalogued.is_(False))
        ).all()
        self._session.execute(update(order_lines).where(lines.product_id == product.product_id, lines.category == "")
                              .values(category=current.category))
        self._session.execute(update(order_lines).where(lines.product_id == product.product_id)
                              .values(pack_size=current.pack_size, catalogued=True))
        return [(row.customer_id, row.ordered_ts, bool(row.category)) for row in uncatalogued]

    def products_by_id(self, product_ids: Sequence[str]) -> dict[str, Any]:
        wanted = [product_id for product_id in set(product_ids) if product_id]
        if not wanted:
            return {}
        rows = self._session.execute(select(products).where(products.c.product_id.in_(wanted)))
        return {row.product_id: row for row in rows}

