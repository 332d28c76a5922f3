"""Statements over a batch of rows or keys whose SQL text does not depend on the size of the batch.

A batch travels as one array per column (`unnest`): the statement is parsed, planned and prepared once for
all batches and runs once, instead of once per row (executemany) or as a new multi-row text for each batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    String,
    Table,
    any_,
    bindparam,
    column,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def _array_of(type_: TypeEngine[Any]) -> ARRAY:
    # Strings go as unbounded text: a cast to VARCHAR(n) would cut a value too long for its column
    # silently, where the insert itself rejects it.
    return ARRAY(String() if isinstance(type_, String) else type_)


def _unnest(columns: Sequence[Column[Any]]) -> Any:
    """unnest(:batch_<name>, …) AS batch(<names>): the batch, given at execution, as a table."""
    arrays = [bindparam(f"batch_{col.name}", type_=_array_of(col.type)) for col in columns]
    return func.unnest(*arrays).table_valued(*(column(col.name, col.type) for col in columns),
                                             name="batch").render_derived()


def _arrays(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {f"batch_{name}": [row[name] for row in rows] for name in names}


class BatchLookup:
    """A statement (made by `build` from a WHERE clause) over the rows whose `keys` columns equal one of a batch
    of keys, given at execution."""

    def __init__(self, keys: Sequence[Column[Any]], build: Callable[[ColumnElement[bool]], Any]) -> None:
        self._names = [f"batch_{col.name}" for col in keys]
        if len(keys) == 1:
            self._statement = build(keys[0] == any_(bindparam(self._names[0], type_=_array_of(keys[0].type))))
        else:
            self._statement = build(tuple_(*keys).in_(select(*_unnest(keys).c)))

    def execute(self, session: Session, keys: Collection[Any]) -> Result[Any]:
        """`keys`: plain values for one key column, tuples for several."""
        wanted = sorted(keys)
        if len(self._names) == 1:
            return session.execute(self._statement, {self._names[0]: wanted})
        return session.execute(self._statement,
                               {name: [key[k] for key in wanted] for k, name in enumerate(self._names)})


class BatchInsert:
    """INSERT of many rows, finished (ON CONFLICT …, RETURNING …) by `finish`."""

    def __init__(self, table: Table, names: Sequence[str], finish: Callable[[Any], Any] = lambda insert: insert):
        self._names = tuple(names)
        batch = _unnest([table.c[name] for name in names])
        self._statement = finish(insert(table).from_select(list(names), select(*batch.c)))

    def execute(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> Result[Any] | None:
        if not rows:
            return None
        return session.execute(self._statement, _arrays(rows, self._names))


def update_by_key(session: Session, table: Table, key: str, changes: Mapping[Any, Mapping[str, Any]]) -> None:
    """Set columns of the rows whose `key` column is each key of `changes`; every change names the same columns."""
    if not changes:
        return
    names = tuple(next(iter(changes.values())))
    rows = [{**values, key: row_key} for row_key, values in sorted(changes.items())]
    session.execute(_update(table, key, names), _arrays(rows, (key, *names)))


@cache
def _update(table: Table, key: str, names: tuple[str, ...]) -> Any:
    batch = _unnest([table.c[name] for name in (key, *names)])
    return update(table).where(table.c[key] == batch.c[key]).values({name: batch.c[name] for name in names})


def reassign(session: Session, table: Table, name: str, moves: Mapping[Any, Any]) -> None:
    """In every row whose `name` column holds a key of `moves`, set it to that key's value (old → new)."""
    if moves:
        ordered = sorted(moves.items())
        session.execute(_reassign(table, name), {"batch_old": [old for old, _ in ordered],
                                                 "batch_new": [new for _, new in ordered]})


def delete_where_in(session: Session, table: Table, name: str, values: Collection[Any]) -> None:
    """Delete the rows whose `name` column holds one of `values`."""
    if values:
        session.execute(_delete(table, name), {"batch_values": sorted(values)})


@cache
def _reassign(table: Table, name: str) -> Any:
    target = table.c[name]
    arrays = [bindparam(f"batch_{side}", type_=_array_of(target.type)) for side in ("old", "new")]
    batch = func.unnest(*arrays).table_valued(column("old", target.type), column("new", target.type),
                                              name="batch").render_derived()
    return update(table).where(target == batch.c.old).values({name: batch.c.new})


@cache
def _delete(table: Table, name: str) -> Any:
    target = table.c[name]
    return delete(table).where(target == any_(bindparam("batch_values", type_=_array_of(target.type))))
