"""Statements over a batch of rows or keys whose SQL text does not depend on the size of the batch.

On PostgreSQL a batch travels as one array per column (`unnest`): the statement is parsed, planned and
prepared once for all batches and runs once, instead of once per row (executemany) or as a new multi-row
text for each batch. SQLite runs inside the process, without round trips: there rows go through
executemany and keys through an IN list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Column, ColumnElement, String, Table, any_, bindparam, column, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _array_of(type_: TypeEngine[Any]) -> ARRAY:
    # Strings go as unbounded text: a cast to VARCHAR(n) would cut a value too long for its column
    # silently, where the insert itself rejects it.
    return ARRAY(String() if isinstance(type_, String) else type_)


def _unnest(columns: Sequence[Column[Any]], values: Sequence[Sequence[Any]] | None = None) -> Any:
    """unnest(:batch_<name>, …) AS batch(<names>): the batch as a table (PostgreSQL). With `values`, the arrays
    are given now; otherwise they are parameters of the execution."""
    arrays = [bindparam(f"batch_{col.name}", values[k] if values is not None else None, type_=_array_of(col.type))
              for k, col in enumerate(columns)]
    return func.unnest(*arrays).table_valued(*(column(col.name, col.type) for col in columns),
                                             name="batch").render_derived()


def _arrays(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {f"batch_{name}": [row[name] for row in rows] for name in names}


def among(session: Session, col: Column[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`col` is one of `values`."""
    wanted = sorted(values)
    if on_postgres(session):
        return col == any_(bindparam(f"any_{col.name}", wanted, type_=_array_of(col.type)))
    return col.in_(wanted)


def keys_among(session: Session, columns: Sequence[Column[Any]],
               keys: Collection[tuple[Any, ...]]) -> ColumnElement[bool]:
    """(columns…) is one of `keys`."""
    wanted = sorted(keys)
    if on_postgres(session):
        batch = _unnest(columns, [[key[k] for key in wanted] for k in range(len(columns))])
        return tuple_(*columns).in_(select(*batch.c))
    return tuple_(*columns).in_(wanted)


class BatchInsert:
    """INSERT of many rows, finished (ON CONFLICT …, RETURNING …) by `finish`, for both dialects."""

    def __init__(self, table: Table, names: Sequence[str], finish: Callable[[Any], Any] = lambda insert: insert):
        self._names = tuple(names)
        batch = _unnest([table.c[name] for name in names])
        self._postgres = finish(pg_insert(table).from_select(list(names), select(*batch.c)))
        self._sqlite = finish(sqlite_insert(table))

    def execute(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> Result[Any] | None:
        if not rows:
            return None
        if on_postgres(session):
            return session.execute(self._postgres, _arrays(rows, self._names))
        return session.execute(self._sqlite, [{name: row[name] for name in self._names} for row in rows])


def update_by_key(session: Session, table: Table, key: str, changes: Mapping[Any, Mapping[str, Any]]) -> None:
    """Set columns of the rows whose `key` column is each key of `changes`; every change names the same columns."""
    if not changes:
        return
    names = tuple(next(iter(changes.values())))
    ordered = sorted(changes.items())
    if on_postgres(session):
        rows = [{**values, key: row_key} for row_key, values in ordered]
        session.execute(_postgres_update(table, key, names), _arrays(rows, (key, *names)))
    else:
        session.execute(_sqlite_update(table, key), [{**values, f"changed_{key}": row_key}
                                                     for row_key, values in ordered])


@cache
def _postgres_update(table: Table, key: str, names: tuple[str, ...]) -> Any:
    batch = _unnest([table.c[name] for name in (key, *names)])
    return update(table).where(table.c[key] == batch.c[key]).values({name: batch.c[name] for name in names})


@cache
def _sqlite_update(table: Table, key: str) -> Any:
    return update(table).where(table.c[key] == bindparam(f"changed_{key}"))
