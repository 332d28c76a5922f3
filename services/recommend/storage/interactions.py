"""Interactions, appetences and merges: what the model learns from, kept per customer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.recommending.interactions import Interaction
from services.recommend.domain.customers import Row
from services.recommend.storage.tables import appetences, interactions, merged_into

CUSTOMER_STATE = """
SELECT 'i' AS part, product_id AS key, kind, quantity, order_id, at FROM interactions WHERE customer_id = %(c)s
UNION ALL SELECT 'a', category, '', weight, '', NULL FROM appetences WHERE customer_id = %(c)s
UNION ALL SELECT 'm', merged_id, '', 0, '', NULL FROM merged_into WHERE survivor_id = %(c)s
UNION ALL SELECT 'p', product_id, '', 0, '', NULL FROM purchases WHERE customer_id = %(c)s
"""
"""Written out and run on the driver (not built with SQLAlchemy's expressions): on the hot path of Recommend,
building and caching the expression cost as much as the round trip (1.4 → 0.7 ms median), SQLAlchemy's execution
and rows as much again. Prepared on each connection from its first use (psycopg would wait for the fifth):
planning the UNION takes 0.55 ms, twice its execution."""


@dataclass(frozen=True)
class CustomerState:
    """What a Recommend call needs about one customer, read in one round trip."""

    history: list[Row]
    """Their interactions as (product, kind, quantity, order id, when): what domain.customers reads."""
    appetences: dict[str, float]
    merged_ids: list[str]
    bought: set[str]


class InteractionRepository:
    def __init__(self, session: Session | Connection) -> None:
        self._session = session

    def add(self, items: Iterable[Interaction]) -> None:
        rows = [{"customer_id": i.customer_id, "product_id": i.product_id, "kind": i.kind, "quantity": i.quantity,
                 "order_id": i.order_id, "at": i.at} for i in items]
        if rows:
            self._session.execute(insert(interactions), rows)

    def add_appetence(self, customer_id: str, category: str, weight: float) -> None:
        self._session.execute(
            insert(appetences).values(customer_id=customer_id, category=category, weight=weight)
            .on_conflict_do_update(index_elements=["customer_id", "category"],
                                   set_={"weight": appetences.c.weight + weight})
        )

    def merge(self, merged_id: str, survivor_id: str) -> None:
        """The survivor gets the merged customer's interactions and appetences; the merged id (and any id merged
        into it before) is remembered as the survivor's, so a model trained before still finds both."""
        self._session.execute(update(interactions).where(interactions.c.customer_id == merged_id)
                              .values(customer_id=survivor_id))
        for category, weight in self._session.execute(
            select(appetences.c.category, appetences.c.weight).where(appetences.c.customer_id == merged_id)
        ).all():
            self.add_appetence(survivor_id, category, weight)
        self._session.execute(delete(appetences).where(appetences.c.customer_id == merged_id))
        self._session.execute(update(merged_into).where(merged_into.c.survivor_id == merged_id)
                              .values(survivor_id=survivor_id))
        self._session.execute(insert(merged_into).values(merged_id=merged_id, survivor_id=survivor_id)
                              .on_conflict_do_update(index_elements=["merged_id"], set_={"survivor_id": survivor_id}))

    def forget(self, customer_id: str) -> None:
        """Erasure: their interactions, appetences and merge links are gone."""
        self._session.execute(delete(interactions).where(interactions.c.customer_id == customer_id))
        self._session.execute(delete(appetences).where(appetences.c.customer_id == customer_id))
        self._session.execute(delete(merged_into).where((merged_into.c.survivor_id == customer_id)
                                                        | (merged_into.c.merged_id == customer_id)))

    def all_before(self, until: datetime) -> list[Interaction]:
        rows = self._session.execute(select(interactions).where(interactions.c.at < until)
                                     .order_by(interactions.c.id))
        return [_interaction(row) for row in rows]

    def all_appetences(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for row in self._session.execute(select(appetences)):
            out.setdefault(row.customer_id, {})[row.category] = row.weight
        return out

    def first_at(self) -> datetime | None:
        return self._session.execute(select(func.min(interactions.c.at))).scalar()


def customer_state(connection: psycopg.Connection, customer_id: str) -> CustomerState:
    """Their interactions, appetences, the ids merged into them and what they bought: one UNION ALL, prepared on
    the connection, its rows as plain tuples."""
    rows = connection.execute(CUSTOMER_STATE, {"c": customer_id}, prepare=True).fetchall()
    state = CustomerState([], {}, [], set())
    for row in rows:
        part = row[0]
        if part == "i":
            state.history.append(row[1:])
        elif part == "a":
            state.appetences[row[1]] = row[3]
        elif part == "m":
            state.merged_ids.append(row[1])
        else:
            state.bought.add(row[1])
    state.merged_ids.sort()
    return state


def _interaction(row) -> Interaction:
    return Interaction(row.customer_id, row.product_id, row.kind, row.at, row.quantity, row.order_id)
