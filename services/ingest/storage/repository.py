"""The batch path's reads and writes: a fixed handful of set-based statements per batch, whatever its size.

Hand-written SQL with array parameters and COPY: no per-row statement, no SQL compilation per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.kit.framing import frame
from declic.kit.sql_sets import TEXT_ARRAY, copy_rows, raw_connection, row_writer, text_array
from services.ingest.domain.identity import PRIORITY, CustomerState, Identifier
from services.ingest.storage import tables

EVENT_COLUMNS = ("source", "event_id", "customer_id", "kind", "event_time", "received_at", "payload")
COUNT_COLUMNS = tuple(f"n_{kind}" for kind in PRIORITY)


class IngestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._driver: Any = None

    @property
    def _connection(self) -> Any:
        """The psycopg connection under the session (same transaction), fetched once."""
        if self._driver is None:
            self._driver = raw_connection(self._session)
        return self._driver

    def _copy(self, table: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        copy_rows(self._session, table, columns, rows, self._connection)

    def _raw(self, sql: str, *arrays: Iterable[object]) -> list[tuple[Any, ...]]:
        """Run `sql` (prepared) with each of `arrays` as one TEXT_ARRAY parameter; return the rows."""
        with self._connection.cursor() as cursor:
            cursor.execute(sql, [text_array(array) for array in arrays], prepare=True)
            return cursor.fetchall() if cursor.description else []

    def serialize_writers(self) -> int:
        """Wait for the other writers of the identity graph (an advisory lock), then count this transaction as
        one: the new value of `identity_version`."""
        # In the same round trip: this transaction's lookups and updates join a few hundred keys to large
        # tables, which only nested loops over the indexes do well. On stale statistics (a table that grew
        # since it was last analysed) the planner picks hash joins over whole-table scans instead.
        with self._connection.cursor() as cursor:  # no parameters: both statements in one round trip
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema())),"
                " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true);"
                " UPDATE identity_version SET version = version + 1 WHERE id = 1 RETURNING version")
            cursor.nextset()
            [(version,)] = cursor.fetchall()
        return int(version)

    # --- events ----------------------------------------------------------------------------------------------

    def known_events(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The already received events among `keys`, with the customer each was attached to."""
        if not keys:
            return {}
        rows = self._raw(
            f"SELECT e.source, e.event_id, e.customer_id FROM unnest({TEXT_ARRAY}, {TEXT_ARRAY}) AS k(source, event_id)"
            " JOIN events e USING (source, event_id)",
            (k[0] for k in keys), (k[1] for k in keys),
        )
        return {(source, event_id): customer for source, event_id, customer in rows}

    def event_writer(self) -> AbstractContextManager[Callable[[Sequence[Any]], None]]:
        """`with repository.event_writer() as add: add(row)`: event rows stored while the caller makes the next
        (one COPY; no other statement inside the block). A key already present fails it."""
        return row_writer(self._session, tables.events, EVENT_COLUMNS, self._connection)

    def add_outbox(self, stream: str, records: Sequence[bytes]) -> None:
        """The transaction's hand-off records, in order, in one outbox row (see `kit.framing`)."""
        if records:
            self._copy(tables.outbox, ("stream", "payload"), [(stream, frame(records))])

    # --- identity graph --------------------------------------------------------------------------------------

    def owners(self, wanted: Sequence[Identifier]) -> dict[Identifier, str]:
        """The current customer (after merges) of each of `wanted` identifiers that somebody holds."""
        if not wanted:
            return {}
        # Merges re-point identifiers in the same transaction and writers take turns: an identifier
        # always names a live customer, no need to follow customers.merged_into.
        rows = self._raw(
            f"SELECT type, value, customer_id FROM unnest({TEXT_ARRAY}, {TEXT_ARRAY}) AS k(type, value)"
            " JOIN identifiers USING (type, value)",
            (w[0] for w in wanted), (w[1] for w in wanted),
        )
        return {(kind, value): owner for kind, value, owner in rows}

    def customer_states(self, customer_ids: Sequence[str]) -> tuple[list[CustomerState], list[tuple[str, str]]]:
        """Age and identifier counts of `customer_ids`, with the operator splits that concern them."""
        wanted = sorted(set(customer_ids))
        # unnest + join, not "= ANY(array)": the planner would scan the whole table for the latter.
        rows = self._raw(f"SELECT customer_id, created_at, {', '.join(COUNT_COLUMNS)}"
                         f" FROM unnest({TEXT_ARRAY}) AS k(customer_id) JOIN customers USING (customer_id)", wanted)
        pairs = self._raw(f"SELECT customer_a, customer_b FROM unnest({TEXT_ARRAY}) AS k(customer_id)"
                          " JOIN split_pairs ON customer_a = k.customer_id OR customer_b = k.customer_id", wanted)
        states = [CustomerState(row[0], row[1], {kind: n for kind, n in zip(PRIORITY, row[2:], strict=True) if n})
                  for row in rows]
        return states, [(a, b) for a, b in pairs]

    def add_customers(self, rows: Sequence[tuple[str, datetime, str | None, dict[str, int]]]) -> None:
        """Insert new customers: (customer_id, created_at, merged_into, identifier counts by type)."""
        self._copy(tables.customers, ("customer_id", "created_at", "merged_into", *COUNT_COLUMNS),
                  [(c, at, merged, *(counts.get(kind, 0) for kind in PRIORITY)) for c, at, merged, counts in rows])

    def change_counts(self, changes: dict[str, dict[str, int]]) -> None:
        """Add `changes` {customer: {type: delta}} to existing customers' identifier counts."""
        if not changes:
            return
        ids = sorted(changes)
        sets = ", ".join(f"{column} = c.{column} + d.{column}" for column in COUNT_COLUMNS)
        arrays = ", ".join(f"{TEXT_ARRAY}::int[]" for _ in COUNT_COLUMNS)
        self._raw(f"UPDATE customers c SET {sets} FROM unnest({TEXT_ARRAY}, {arrays})"
                  f" AS d(customer_id, {', '.join(COUNT_COLUMNS)}) WHERE c.customer_id = d.customer_id",
                  ids, *([changes[c].get(kind, 0) for c in ids] for kind in PRIORITY))

    def add_identifiers(self, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
        """Insert (type, value, customer_id, created_at); an identifier already held fails the statement."""
        self._copy(tables.identifiers, ("type", "value", "customer_id", "created_at"), rows)

    def merge(self, survivors: dict[str, str]) -> None:
        """Apply merges {merged customer: final survivor}: move identifiers, point the merged (and whatever
        was merged into them before) at the survivor, so that chains stay one hop long."""
        if not survivors:
            return
        moves = f"FROM unnest({TEXT_ARRAY}, {TEXT_ARRAY}) AS m(merged, survivor) WHERE"
        for sql in (f"UPDATE identifiers i SET customer_id = m.survivor {moves} i.customer_id = m.merged",
                    f"UPDATE customers c SET merged_into = m.survivor {moves} c.customer_id = m.merged",
                    f"UPDATE customers c SET merged_into = m.survivor {moves} c.merged_into = m.merged"):
            self._raw(sql, survivors.keys(), survivors.values())

    def add_merge_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            columns = list(rows[0])
            self._copy(tables.merges, columns, [tuple(row[c] for c in columns) for row in rows])

    def add_refusals(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(tables.refusals.insert(), list(rows))

    def suppressed_among(self, hashes: Sequence[str]) -> set[str]:
        """The hashes, among `hashes`, of identifiers of erased people."""
        if not hashes:
            return set()
        sql = (f"SELECT identifier_hash FROM unnest({TEXT_ARRAY}) AS k(identifier_hash)"
               " JOIN suppressed_identifiers USING (identifier_hash)")
        return {row[0] for row in self._raw(sql, hashes)}

    # --- catalogue and stats ---------------------------------------------------------------------------------

    def known_products(self, product_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(product_ids))
        if not wanted:
            return set()
        sql = f"SELECT product_id FROM unnest({TEXT_ARRAY}) AS k(product_id) JOIN products USING (product_id)"
        return {row[0] for row in self._raw(sql, wanted)}

    def upsert_products(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update products; an upsert older (by event time) than the stored one is ignored."""
        table = tables.products
        for row in rows:
            statement = insert(table).values(**row)
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=["product_id"],
                set_={name: excluded[name] for name in ("name", "category", "deleted", "updated_at", "payload")},
                where=table.c.updated_at <= excluded.updated_at,
            )
            self._session.execute(statement)

    def add_stats(self, counts: dict[tuple[str, str, str], int], shard: int = 0) -> None:
        if not counts:
            return
        rows = [(source, status, reason, shard, count) for (source, status, reason), count in sorted(counts.items())]
        # Hand-written: SQLAlchemy would build and compile the upsert again for every batch.
        with self._connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ingest_stats (source, status, reason, shard, count)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::bigint[])"
                " ON CONFLICT (source, status, reason, shard)"
                " DO UPDATE SET count = ingest_stats.count + excluded.count",
                [list(column) for column in zip(*rows, strict=True)], prepare=True)
