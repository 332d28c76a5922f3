"""Order, engagement and interest facts, and the per-customer figures derived from them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.kit.sql_sets import BatchLookup
from services.profile.domain.appetence import decay
from services.profile.domain.commands import PURCHASE, UpsertProduct
from services.profile.storage.tables import appetences, engagement_counts, order_lines, orders, products

PRODUCTS_BY_ID = BatchLookup([products.c.product_id], select(products).where)


class FactRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- orders --------------------------------------------------------------------------------
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
    def engagement_of(self, customer_id: str) -> dict[str, dict[str, int]]:
        """channel → kind → count."""
        result: dict[str, dict[str, int]] = {}
        for row in self._session.execute(select(engagement_counts)
                                         .where(engagement_counts.c.customer_id == customer_id)):
            result.setdefault(row.channel, {})[row.kind] = row._mapping["count"]  # row.count: the tuple method
        return result

    # --- appetences ----------------------------------------------------------------------------
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
        statement = insert(products).values(product_id=product.product_id, **values)
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
        return {row.product_id: row for row in PRODUCTS_BY_ID.execute(self._session, wanted)}

