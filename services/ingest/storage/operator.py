"""Reads and writes of the operator's side: identities, split, audit trail, erasure, stats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from services.ingest.domain.identity import PRIORITY, Identifier
from services.ingest.storage import tables
from services.ingest.storage.repository import IngestRepository


class OperatorRepository(IngestRepository):
    def customer_identifiers(self, customer_id: str) -> list[Identifier]:
        ids = tables.identifiers
        query = select(ids.c.type, ids.c.value).where(ids.c.customer_id == customer_id)
        return [(kind, value) for kind, value in self._session.execute(query.order_by(ids.c.type, ids.c.value))]

    def owner_of(self, identifier: Identifier) -> str | None:
        return self.owners([identifier]).get(identifier)

    def current_customer(self, customer_id: str) -> str | None:
        """`customer_id` itself, or the customer it was merged into; None when unknown or erased."""
        custs = tables.customers
        row = self._session.execute(
            select(custs.c.merged_into, custs.c.erased_at).where(custs.c.customer_id == customer_id)
        ).first()
        if row is None or row.erased_at is not None:
            return None
        return row.merged_into or customer_id

    def move_identifiers(self, identifiers: Sequence[Identifier], to_customer: str) -> None:
        ids = tables.identifiers
        self._session.execute(
            update(ids).where(tuple_(ids.c.type, ids.c.value).in_(list(identifiers))).values(customer_id=to_customer)
        )

    def recount(self, customer_ids: Sequence[str]) -> None:
        """Set the identifier counts of `customer_ids` from their identifiers (after a split or an erasure)."""
        ids, custs = tables.identifiers, tables.customers
        for customer_id in customer_ids:
            counted: dict[str, int] = dict(self._session.execute(
                select(ids.c.type, func.count()).where(ids.c.customer_id == customer_id).group_by(ids.c.type)
            ).all())
            values = {f"n_{kind}": counted.get(kind, 0) for kind in PRIORITY}
            self._session.execute(update(custs).where(custs.c.customer_id == customer_id).values(**values))

    def add_split(self, audit: dict[str, Any]) -> None:
        """Record a split and keep its two customers apart from now on."""
        a, b = sorted((audit["from_customer_id"], audit["new_customer_id"]))
        self._session.execute(tables.split_pairs.insert().values(customer_a=a, customer_b=b))
        self._session.execute(tables.splits.insert().values(**audit))

    def erase(self, customer_id: str, hashes: Sequence[str], now: datetime) -> None:
        """Forget an erased customer's identifiers and refuse them from now on."""
        ids, custs, table = tables.identifiers, tables.customers, tables.suppressed
        if hashes:
            statement = insert(table).on_conflict_do_nothing(index_elements=["identifier_hash"])
            self._session.execute(
                statement,
                [{"identifier_hash": h, "erased_customer_id": customer_id, "erased_at": now} for h in hashes],
            )
        merged = select(custs.c.customer_id).where(
            or_(custs.c.customer_id == customer_id, custs.c.merged_into == customer_id)
        )
        self._session.execute(delete(ids).where(ids.c.customer_id.in_(merged)))
        self._session.execute(update(custs).where(custs.c.customer_id == customer_id).values(erased_at=now))
        self.recount([customer_id])

    # --- audit trail and stats -------------------------------------------------------------------------------

    # Each list newest first, `limit` rows after the sort key `after` (None: from the start; (): none left).

    def list_merges(self, customer_id: str, limit: int, after: tuple[Any, ...] | None = None) -> list[Any]:
        m = tables.merges
        order = (m.c.merged_at, m.c.record_id)
        query = select(m).order_by(*(column.desc() for column in order)).limit(limit)
        if customer_id:
            query = query.where(or_(m.c.survivor_id == customer_id, m.c.merged_ids.contains(customer_id)))
        return self._after(query, order, after)

    def list_refusals(self, limit: int, after: tuple[Any, ...] | None = None) -> list[Any]:
        r = tables.refusals
        return self._after(select(r).order_by(r.c.id.desc()).limit(limit), (r.c.id,), after)

    def list_splits(self, customer_id: str, limit: int, after: tuple[Any, ...] | None = None) -> list[Any]:
        t = tables.splits
        order = (t.c.split_at, t.c.record_id)
        query = select(t).order_by(*(column.desc() for column in order)).limit(limit)
        if customer_id:
            query = query.where(or_(t.c.from_customer_id == customer_id, t.c.new_customer_id == customer_id))
        return self._after(query, order, after)

    def _after(self, query: Any, order: tuple[Any, ...], after: tuple[Any, ...] | None) -> list[Any]:
        if after == ():
            return []
        if after is not None:
            query = query.where(tuple_(*order) < tuple_(*after))
        return list(self._session.execute(query))

    def refusal_counts(self) -> list[tuple[str, int]]:
        r = tables.refusals
        query = select(r.c.reason, func.count()).group_by(r.c.reason).order_by(r.c.reason)
        return [(reason, int(count)) for reason, count in self._session.execute(query)]

    def stats(self, source: str, limit: int | None = None,
              after: tuple[str, str, str] | None = None) -> list[tuple[str, str, str, int]]:
        """Counts by (source, status, reason) in that order: `limit` of them (all when None) after `after`."""
        table = tables.stats
        order = (table.c.source, table.c.status, table.c.reason)
        query = select(*order, func.sum(table.c.count)).group_by(*order).order_by(*order).limit(limit)
        if source:
            query = query.where(table.c.source == source)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        return [(s, st, r, int(c)) for s, st, r, c in self._session.execute(query)]
