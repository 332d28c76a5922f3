"""kit.sql_sets against a real PostgreSQL: every helper gives the rows that one statement per row would give —
COPY (ingest's events and outbox, profile's order lines), unnest batches (profile's upserts, look-ups, updates),
text arrays (ingest's look-ups) — with lists sent as text or in binary alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from psycopg.adapt import PyFormat
from psycopg.pq import Format
from sqlalchemy import BigInteger, Column, DateTime, Engine, Integer, MetaData, String, Table, select, text
from sqlalchemy.orm import Session

from declic.kit.database import make_engine
from declic.kit.sql_sets import (
    TEXT_ARRAY,
    BatchInsert,
    BatchLookup,
    copy_rows,
    delete_where_in,
    raw_connection,
    reassign,
    send_lists_in_binary,
    text_array,
    update_by_key,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# Values psycopg's text format must quote: commas, quotes, braces, backslashes, spaces, "NULL", empty.
AWKWARD = ["plain", "a,b", 'say "hi"', "{braces}", "back\\slash", " spaced ", "NULL", "", "é€"]

metadata = MetaData()
items = Table("items", metadata, Column("key", String(20), primary_key=True), Column("owner", String(20)),
              Column("count", Integer, nullable=False), Column("total", BigInteger),
              Column("seen_at", DateTime(timezone=True)))
pairs = Table("pairs", metadata, Column("a", String(20), primary_key=True), Column("b", Integer, primary_key=True),
              Column("note", String(20), nullable=False))


@pytest.fixture(params=["text lists", "binary lists"])
def engine(settings, request) -> Iterator[Engine]:
    engine = make_engine(settings, "sets")
    if request.param == "binary lists":
        send_lists_in_binary(engine)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _rows(session: Session, table: Table) -> list[tuple]:
    return [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]


def test_copy_inserts_every_row_with_its_types(engine) -> None:
    rows = [(key, None if n % 2 else f"o{n}", n, 2**40 + n, AT) for n, key in enumerate(AWKWARD)]
    with Session(engine) as session:
        copy_rows(session, items, ["key", "owner", "count", "total", "seen_at"], rows)
        copy_rows(session, items, ["key", "count"], [])  # nothing to do: no statement
        assert _rows(session, items) == sorted(rows)
        session.rollback()  # the COPY ran in the session's transaction
        assert _rows(session, items) == []


def test_a_batch_insert_is_one_statement_with_on_conflict(engine) -> None:
    add = BatchInsert(items, ["key", "count"], lambda insert: insert.on_conflict_do_update(
        index_elements=["key"], set_={"count": items.c.count + insert.excluded.count}).returning(items.c.key))
    with Session(engine) as session:
        first = add.execute(session, [{"key": key, "count": 1} for key in AWKWARD])
        assert first is not None and sorted(first.scalars()) == sorted(AWKWARD)
        add.execute(session, [{"key": "a,b", "count": 5}])
        assert add.execute(session, []) is None
        counts = dict(session.execute(select(items.c.key, items.c.count)).all())
    assert counts == {**dict.fromkeys(AWKWARD, 1), "a,b": 6}


def test_lookups_by_one_or_several_key_columns(engine) -> None:
    by_key = BatchLookup([items.c.key], select(items.c.key).where)
    by_pair = BatchLookup([pairs.c.a, pairs.c.b], select(pairs.c.note).where)
    with Session(engine) as session:
        copy_rows(session, items, ["key", "count"], [(key, 0) for key in AWKWARD])
        copy_rows(session, pairs, ["a", "b", "note"], [("x", 1, "x1"), ("x", 2, "x2"), ("y", 1, "y1")])
        assert sorted(by_key.execute(session, {"a,b", "NULL", "", "absent"}).scalars()) == ["", "NULL", "a,b"]
        assert sorted(by_pair.execute(session, {("x", 2), ("y", 1), ("y", 2)}).scalars()) == ["x2", "y1"]
        assert by_key.execute(session, []).all() == []


def test_updates_reassignments_and_deletes_by_key(engine) -> None:
    with Session(engine) as session:
        copy_rows(session, items, ["key", "owner", "count"], [(key, "old" if n < 4 else "keep", n)
                                                               for n, key in enumerate(AWKWARD)])
        update_by_key(session, items, "key", {"plain": {"count": 10, "seen_at": AT},
                                              'say "hi"': {"count": 20, "seen_at": None}})
        reassign(session, items, "owner", {"old": "new", "nobody": "else"})
        delete_where_in(session, items, "key", {"{braces}", "absent"})
        found = {row.key: (row.owner, row.count, row.seen_at) for row in session.execute(select(items))}
    assert found["plain"] == ("new", 10, AT) and found['say "hi"'] == ("new", 20, None)
    assert found["a,b"] == ("new", 1, None) and found["back\\slash"] == ("keep", 4, None)
    assert "{braces}" not in found and len(found) == len(AWKWARD) - 1


def test_a_text_array_is_split_on_the_server(engine) -> None:
    values = [value for value in AWKWARD if value]  # an empty text is an empty array, not [""]
    with Session(engine) as session:
        cursor = raw_connection(session).execute(f"SELECT {TEXT_ARRAY}", (text_array(values),))
        assert cursor.fetchone()[0] == values
        assert session.execute(text("SELECT 1")).scalar() == 1  # the same connection, still usable


def test_lists_travel_in_binary_once_asked(engine, request) -> None:
    with Session(engine) as session:
        cursor = raw_connection(session).execute("SELECT %s::text[]", (AWKWARD,))
        assert cursor.fetchone()[0] == AWKWARD
        binary = raw_connection(session).adapters.get_dumper(list, PyFormat.AUTO).format == Format.BINARY
    assert binary == (request.node.callspec.params["engine"] == "binary lists")
