"""Set-based reads and writes of ingest's tables: a few statements per batch, whatever its size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.ingest.domain.identity import CustomerState, Identifier
from services.ingest.storage import tables
from services.ingest.storage.bulk import copy_rows, is_postgres

EVENT_COLUMNS = ("source", "event_id", "customer_id", "kind", "event_time", "received_at", "payload")
_CHUNK = 2000  # bound the number of bind parameters per statement (SQLite allows 32,766)


class ConcurrentChange(Exception):
    """Another transaction changed a customer this one is merging: retry the whole batch."""


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class IngestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._postgres = is_postgres(session)

    def _insert(self, table):  # type: ignore[no-untyped-def]
        return pg_insert(table) if self._postgres else sqlite_insert(table)

    # --- events -------------------------------------------------------------------------------------------------

    def known_events(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The already received events among `keys`, with the customer each was attached to."""
        if not keys:
            return {}
        if self._postgres:
            rows = self._raw(
                "SELECT e.source, e.event_id, e.customer_id FROM unnest(%s::text[], %s::text[]) AS k(source, event_id)"
                " JOIN events e USING (source, event_id)",
                ([k[0] for k in keys], [k[1] for k in keys]),
            )
            return {(source, event_id): customer for source, event_id, customer in rows}
        table = tables.events
        found: dict[tuple[str, str], str | None] = {}
        for chunk in _chunks(list(keys)):
            query = select(table.c.source, table.c.event_id, table.c.customer_id).where(
                tuple_(table.c.source, table.c.event_id).in_(chunk)
            )
            for row in self._session.execute(query):
                found[(row.source, row.event_id)] = row.customer_id
        return found

    def _raw(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """PostgreSQL only: run `sql` on the session's connection with array parameters (no SQL compilation)."""
        raw = self._session.connection().connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()

    def add_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert event rows (EVENT_COLUMNS order); a key already present fails the statement."""
        copy_rows(self._session, tables.events, EVENT_COLUMNS, rows)

    def add_outbox(self, stream: str, payloads: Sequence[bytes]) -> None:
        copy_rows(self._session, tables.outbox, ("stream", "payload"), [(stream, p) for p in payloads])

    # --- identity graph -----------------------------------------------------------------------------------------

    def owners(self, wanted: Sequence[Identifier]) -> dict[Identifier, str]:
        """The current customer (after merges) of each of `wanted` identifiers that somebody holds."""
        if not wanted:
            return {}
        return self._owners(wanted)

    def customer_states(self, customer_ids: Sequence[str]) -> tuple[list[CustomerState], list[tuple[str, str]]]:
        """Age and identifier counts of `customer_ids`, with the operator splits that concern them."""
        states: dict[str, CustomerState] = {}
        pairs: list[tuple[str, str]] = []
        for chunk in _chunks(sorted(set(customer_ids))):
            for customer_id, created_at, kind, count in self._customer_counts(chunk):
                state = states.setdefault(customer_id, CustomerState(customer_id, created_at))
                if kind is not None:
                    state.type_counts[kind] = count
            pairs.extend(self._split_pairs(chunk))
        return list(states.values()), pairs

    def _owners(self, wanted: Sequence[Identifier]) -> dict[Identifier, str]:
        ids, custs = tables.identifiers, tables.customers
        if self._postgres:
            rows = self._raw(
                "SELECT i.type, i.value, coalesce(c.merged_into, c.customer_id)"
                " FROM unnest(%s::text[], %s::text[]) AS k(type, value) JOIN identifiers i USING (type, value)"
                " JOIN customers c ON c.customer_id = i.customer_id",
                ([w[0] for w in wanted], [w[1] for w in wanted]),
            )
            return {(kind, value): owner for kind, value, owner in rows}
        owners: dict[Identifier, str] = {}
        for chunk in _chunks(list(wanted)):
            query = (
                select(ids.c.type, ids.c.value, func.coalesce(custs.c.merged_into, custs.c.customer_id))
                .join(custs, custs.c.customer_id == ids.c.customer_id)
                .where(tuple_(ids.c.type, ids.c.value).in_(chunk))
            )
            for kind, value, owner in self._session.execute(query):
                owners[(kind, value)] = owner
        return owners

    def _customer_counts(self, customer_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(customer_id, created_at, identifier type, count) rows; type None for a customer without identifiers."""
        ids, custs = tables.identifiers, tables.customers
        if self._postgres:
            return self._raw(
                "SELECT c.customer_id, c.created_at, i.type, count(i.value) FROM customers c"
                " LEFT JOIN identifiers i ON i.customer_id = c.customer_id"
                " WHERE c.customer_id = ANY(%s) GROUP BY c.customer_id, c.created_at, i.type",
                (list(customer_ids),),
            )
        query = (
            select(custs.c.customer_id, custs.c.created_at, ids.c.type, func.count(ids.c.value))
            .select_from(custs.outerjoin(ids, ids.c.customer_id == custs.c.customer_id))
            .where(custs.c.customer_id.in_(customer_ids))
            .group_by(custs.c.customer_id, custs.c.created_at, ids.c.type)
        )
        return [tuple(row) for row in self._session.execute(query)]

    def _split_pairs(self, customer_ids: Sequence[str]) -> list[tuple[str, str]]:
        if self._postgres:
            sql = "SELECT customer_a, customer_b FROM split_pairs WHERE customer_a = ANY(%s) OR customer_b = ANY(%s)"
            return [(a, b) for a, b in self._raw(sql, (list(customer_ids), list(customer_ids)))]
        split = tables.split_pairs
        query = select(split.c.customer_a, split.c.customer_b).where(
            or_(split.c.customer_a.in_(customer_ids), split.c.customer_b.in_(customer_ids))
        )
        return [(a, b) for a, b in self._session.execute(query)]

    def add_customers(self, rows: Sequence[tuple[str, datetime, str | None]]) -> None:
        """Insert new customers: (customer_id, created_at, merged_into)."""
        copy_rows(self._session, tables.customers, ("customer_id", "created_at", "merged_into"), rows)

    def add_identifiers(self, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
        """Insert (type, value, customer_id, created_at); an identifier already held fails the statement."""
        copy_rows(self._session, tables.identifiers, ("type", "value", "customer_id", "created_at"), rows)

    def lock_customers(self, customer_ids: Iterable[str]) -> None:
        """Lock existing customers about to be merged (sorted: no deadlock between batches).

        Raises ConcurrentChange when one was merged since the snapshot was read.
        """
        custs = tables.customers
        wanted = sorted(set(customer_ids))
        if not wanted:
            return
        query = select(custs.c.customer_id, custs.c.merged_into).where(custs.c.customer_id.in_(wanted))
        if self._postgres:
            query = query.order_by(custs.c.customer_id).with_for_update()
        rows = self._session.execute(query).all()
        if any(row.merged_into is not None for row in rows):
            raise ConcurrentChange("a customer of this batch was merged by another transaction")

    def merge(self, survivor_id: str, merged_ids: Sequence[str]) -> None:
        """Move identifiers of `merged_ids` to `survivor_id` and point them (and their own merged) at it."""
        ids, custs = tables.identifiers, tables.customers
        self._session.execute(update(ids).where(ids.c.customer_id.in_(merged_ids)).values(customer_id=survivor_id))
        self._session.execute(
            update(custs)
            .where(or_(custs.c.customer_id.in_(merged_ids), custs.c.merged_into.in_(merged_ids)))
            .values(merged_into=survivor_id)
        )

    def customer_identifiers(self, customer_id: str) -> list[Identifier]:
        ids = tables.identifiers
        query = (select(ids.c.type, ids.c.value).where(ids.c.customer_id == customer_id)
                 .order_by(ids.c.type, ids.c.value))
        return [(kind, value) for kind, value in self._session.execute(query)]

    def owner_of(self, identifier: Identifier) -> str | None:
        return self._owners([identifier]).get(identifier)

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

    def add_split_pair(self, customer_a: str, customer_b: str) -> None:
        a, b = sorted((customer_a, customer_b))
        self._session.execute(tables.split_pairs.insert().values(customer_a=a, customer_b=b))

    # --- audit ---------------------------------------------------------------------------------------------------

    def add_merge_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(tables.merges.insert(), list(rows))

    def add_refusals(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(tables.refusals.insert(), list(rows))

    def add_split_audit(self, row: dict[str, Any]) -> None:
        self._session.execute(tables.splits.insert().values(**row))

    def list_merges(self, customer_id: str, limit: int) -> list[Any]:
        m = tables.merges
        query = select(m).order_by(m.c.merged_at.desc()).limit(limit)
        if customer_id:
            query = query.where(or_(m.c.survivor_id == customer_id, m.c.merged_ids.contains(customer_id)))
        return list(self._session.execute(query))

    def list_refusals(self, limit: int) -> list[Any]:
        r = tables.refusals
        return list(self._session.execute(select(r).order_by(r.c.id.desc()).limit(limit)))

    def list_splits(self, customer_id: str, limit: int) -> list[Any]:
        t = tables.splits
        query = select(t).order_by(t.c.split_at.desc()).limit(limit)
        if customer_id:
            query = query.where(or_(t.c.from_customer_id == customer_id, t.c.new_customer_id == customer_id))
        return list(self._session.execute(query))

    def refusal_counts(self) -> list[tuple[str, int]]:
        r = tables.refusals
        query = select(r.c.reason, func.count()).group_by(r.c.reason).order_by(r.c.reason)
        return [(reason, int(count)) for reason, count in self._session.execute(query)]

    # --- erasure -------------------------------------------------------------------------------------------------

    def suppressed_among(self, hashes: Sequence[str]) -> set[str]:
        table = tables.suppressed
        if self._postgres:
            sql = "SELECT identifier_hash FROM suppressed_identifiers WHERE identifier_hash = ANY(%s)"
            return {row[0] for row in self._raw(sql, (list(hashes),))}
        found: set[str] = set()
        for chunk in _chunks(list(hashes)):
            query = select(table.c.identifier_hash).where(table.c.identifier_hash.in_(chunk))
            found.update(self._session.scalars(query))
        return found

    def erase(self, customer_id: str, hashes: Sequence[str], now: datetime) -> None:
        """Forget an erased customer's identifiers and refuse them from now on."""
        ids, custs, table = tables.identifiers, tables.customers, tables.suppressed
        if hashes:
            statement = self._insert(table).on_conflict_do_nothing(index_elements=["identifier_hash"])
            self._session.execute(
                statement,
                [{"identifier_hash": h, "erased_customer_id": customer_id, "erased_at": now} for h in hashes],
            )
        merged = select(custs.c.customer_id).where(
            or_(custs.c.customer_id == customer_id, custs.c.merged_into == customer_id)
        )
        self._session.execute(delete(ids).where(ids.c.customer_id.in_(merged)))
        self._session.execute(update(custs).where(custs.c.customer_id == customer_id).values(erased_at=now))

    # --- catalogue -----------------------------------------------------------------------------------------------

    def known_products(self, product_ids: Iterable[str]) -> set[str]:
        table = tables.products
        wanted = sorted(set(product_ids))
        if self._postgres:
            sql = "SELECT product_id FROM products WHERE product_id = ANY(%s)"
            return {row[0] for row in self._raw(sql, (wanted,))}
        found: set[str] = set()
        for chunk in _chunks(wanted):
            found.update(self._session.scalars(select(table.c.product_id).where(table.c.product_id.in_(chunk))))
        return found

    def upsert_products(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update products; an upsert older (by event time) than the stored one is ignored."""
        table = tables.products
        for row in rows:
            statement = self._insert(table).values(**row)
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=["product_id"],
                set_={name: excluded[name] for name in ("name", "category", "deleted", "updated_at", "payload")},
                where=table.c.updated_at <= excluded.updated_at,
            )
            self._session.execute(statement)

    # --- stats ---------------------------------------------------------------------------------------------------

    def add_stats(self, counts: dict[tuple[str, str, str], int], shard: int) -> None:
        if not counts:
            return
        table = tables.stats
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["source", "status", "reason", "shard"],
            set_={"count": table.c.count + statement.excluded["count"]},
        )
        rows = [
            {"source": source, "status": status, "reason": reason, "shard": shard, "count": count}
            for (source, status, reason), count in sorted(counts.items())
        ]
        self._session.execute(statement, rows)

    def stats(self, source: str) -> list[tuple[str, str, str, int]]:
        table = tables.stats
        query = (
            select(table.c.source, table.c.status, table.c.reason, func.sum(table.c.count))
            .group_by(table.c.source, table.c.status, table.c.reason)
            .order_by(table.c.source, table.c.status, table.c.reason)
        )
        if source:
            query = query.where(table.c.source == source)
        return [(s, st, r, int(c)) for s, st, r, c in self._session.execute(query)]
