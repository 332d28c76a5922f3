"""A batch of journeys written in one statement whose rows travel as one JSON parameter, each row an array of its
columns' values: one JSON text of the batch costs the client a fraction of one binary array per column (each
element of each array dumped by psycopg in Python, JSONB columns dumped one by one), and the statement's text is
the same for every batch (prepared once). Instants are made text before (the json module calling back for each one
cost more than the rest of the row), once per distinct instant of the batch (most are `now`)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from declic.kit.sql_sets import raw_connection
from services.scenario.domain.journeys import OPEN, Journey
from services.scenario.storage.tables import journeys

COLUMNS = tuple(column.name for column in journeys.c)
_OPEN = ", ".join(f"'{state.value}'" for state in OPEN)


def _value(n: int, column: Any) -> str:
    """The n-th element of a row as the column's type."""
    if isinstance(column.type, JSONB):
        return f"r->{n}"
    if isinstance(column.type, Integer):
        return f"(r->>{n})::integer"
    if isinstance(column.type.impl if hasattr(column.type, "impl") else column.type, DateTime):
        return f"(r->>{n})::timestamptz"
    return f"r->>{n}"


_OF_ROW = ", ".join(f"{_value(n, column)} AS {column.name}" for n, column in enumerate(journeys.c))
_ROWS = "FROM jsonb_array_elements(%s::jsonb) AS rows(r))"
_GIVEN = f"(SELECT {_OF_ROW} {_ROWS}"
_INSERT = f"INSERT INTO journeys ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM {_GIVEN} AS given"
ENTER = f"{_INSERT} ON CONFLICT (journey_id) DO NOTHING RETURNING (xmax = 0)"
_HELD_BACK = ("(given.held_back_after IS NULL OR NOT EXISTS (SELECT FROM (SELECT last.journey_id, last.entered_at"
              " FROM journeys AS last WHERE last.customer_id = given.customer_id"
              " AND last.scenario_id = given.scenario_id ORDER BY last.entered_at DESC LIMIT 1) AS last"
              " WHERE last.journey_id <> given.journey_id AND last.entered_at > given.held_back_after))")
"""An entry not held back: its customer's last entry into its scenario is not another journey entered after its
`held_back_after` (its entry less its scenario's period, for a scenario entered once per period; else NULL)."""
ENTER_COUNTING = (
    f"INSERT INTO journeys ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM"
    f" (SELECT {_OF_ROW}, (r->>{len(COLUMNS)})::timestamptz AS held_back_after {_ROWS}"
    f" AS given WHERE {_HELD_BACK} ON CONFLICT (journey_id) DO UPDATE SET occurrences = journeys.occurrences"
    f" + EXCLUDED.occurrences WHERE journeys.state IN ({_OPEN}) RETURNING (xmax = 0)")
"""New journeys (`Rows.values_of` each, then its `held_back_after`), those not held back; one that exists is left
as it is, or counts these occurrences too while it is open."""
TRIAGE = (
    "WITH given AS (SELECT r->>0 AS journey_id, r->>1 AS customer_id, r->>2 AS scenario_id,"
    " (r->>3)::integer AS occurrences, (r->>4)::timestamptz AS held_back_after"
    " FROM jsonb_array_elements(%s::jsonb) AS rows(r)),"
    " allowed AS (SELECT given.journey_id, given.occurrences, stored.journey_id IS NOT NULL AS stored"
    f" FROM given LEFT JOIN journeys AS stored ON stored.journey_id = given.journey_id WHERE {_HELD_BACK}),"
    " counted AS (UPDATE journeys SET occurrences = journeys.occurrences + allowed.occurrences FROM allowed"
    f" WHERE allowed.stored AND journeys.journey_id = allowed.journey_id AND journeys.state IN ({_OPEN}))"
    " SELECT journey_id FROM allowed WHERE NOT stored")
"""Entries sent compact (`Rows.entry_of`): one whose customer's last entry into its scenario is another journey
entered after its `held_back_after` (its entry less the period of a scenario entered once per period) is dropped;
one stored already counts its occurrences while open (ended: nothing); the ids of the others, to be entered
(`ENTER_COUNTING`, whole). Entries met before are most often the first two: their rows (an event in each memory)
are then neither sent nor parsed."""
SAVE = ("UPDATE journeys SET " + ", ".join(f"{name} = given.{name}" for name in COLUMNS
                                           if name not in ("journey_id", "entered_at"))
        + f" FROM {_GIVEN} AS given WHERE journeys.journey_id = given.journey_id"
        " AND journeys.version + 1 = given.version RETURNING journeys.journey_id")
"""Versioned save of a batch: a row changed since it was read (by an interruption, another replica) is skipped."""


def write(session: Session, statement: str, rows: Sequence[Sequence[Any]], *more: Any) -> list[Any]:
    """Run `statement` over `rows` (`values_of` each journey; then `more` parameters) in the session's transaction;
    the first column returned."""
    with raw_connection(session).cursor() as cursor:
        # orjson: 0.5 us a row where the json module took 6.2 (a row with an event in its memory; 13 % of the hand-off)
        cursor.execute(statement, [orjson.dumps(rows).decode(), *more])
        return [row[0] for row in cursor.fetchall()]


_ORDER = ("journey_id", "scenario_id", "customer_id", "entry_key", "state", "step", "due_at", "entered_at",
          "updated_at", "cause_event_id", "waiting_for", "detail", "occurrences", "goal_at", "variables", "memory",
          "version")
if _ORDER != COLUMNS:  # `Rows.values_of` lists the values in this order
    raise RuntimeError(f"journeys' columns are {COLUMNS}, not {_ORDER}: change Rows.values_of")


class Rows:
    """Journeys as rows of values in `COLUMNS` order, each distinct instant made text once."""

    def __init__(self) -> None:
        self._instants: dict[datetime, str] = {}

    def values_of(self, journey: Journey, updated_at: datetime, version: int) -> list[Any]:
        instant = self._instant
        return [journey.journey_id, journey.scenario_id, journey.customer_id, journey.entry_key, journey.state.value,
                journey.step, instant(journey.due_at), instant(journey.entered_at), instant(updated_at),
                journey.cause_event_id, journey.waiting_for, journey.detail, journey.occurrences,
                instant(journey.goal_at), journey.variables, journey.memory, version]

    def entered(self, journey: Journey, period: timedelta | None) -> list[Any]:
        """What `ENTER_COUNTING` needs of a new journey (`period`: its scenario's, when entered once per period)."""
        values = self.values_of(journey, journey.entered_at, journey.version)
        values.append(self._held_back_after(journey, period))
        return values

    def entry_of(self, journey: Journey, period: timedelta | None) -> list[Any]:
        """What `TRIAGE` needs of a new journey."""
        return [journey.journey_id, journey.customer_id, journey.scenario_id, journey.occurrences,
                self._held_back_after(journey, period)]

    def _held_back_after(self, journey: Journey, period: timedelta | None) -> str | None:
        return None if period is None else self._instant(journey.entered_at - period)

    def _instant(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        text = self._instants.get(value)
        if text is None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a journey's instant")
            text = self._instants[value] = value.isoformat()
        return text


_PAIRS = ("(customer_id, scenario_id) IN (SELECT * FROM unnest(%(customers)s::text[], %(scenarios)s::text[]))")
"""The (customer, scenario) pairs given (`pairs`): each looked up in ix_journeys_customer."""
_OF_CUSTOMERS = (f"SELECT {', '.join(COLUMNS)} FROM journeys WHERE {_PAIRS}"
                 f" AND (state IN ({_OPEN}){{goals}}) ORDER BY journey_id")
LAST_ENTRIES = ("SELECT given.customer_id, given.scenario_id, last.entered_at, last.journey_id"
                " FROM unnest(%(customers)s::text[], %(scenarios)s::text[]) AS given(customer_id, scenario_id)"
                " CROSS JOIN LATERAL (SELECT entered_at, journey_id FROM journeys"
                " WHERE journeys.customer_id = given.customer_id AND journeys.scenario_id = given.scenario_id"
                " ORDER BY entered_at DESC LIMIT 1) AS last")
"""Each (customer, scenario) pair's last entry, as `_HELD_BACK` reads it (a backward scan of ix_journeys_customer)."""
OPEN_OF_CUSTOMERS = _OF_CUSTOMERS.format(goals="")
OPEN_OR_GOAL_OF_CUSTOMERS = _OF_CUSTOMERS.format(goals=" OR (goal_at IS NULL AND entered_at >= %(since)s)")
"""The open journeys of customers in scenarios, or also the ended ones since then whose goal is not reached."""


def pairs(wanted: Collection[tuple[str, str]]) -> dict[str, list[str]]:
    """The parameters of `_PAIRS`, sorted."""
    ordered = sorted(wanted)
    return {"customers": [customer for customer, _ in ordered], "scenarios": [scenario for _, scenario in ordered]}


def read(session: Session, statement: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of `statement` (in the session's transaction) as column → value, instants in UTC: psycopg's own
    rows, without SQLAlchemy's Row objects and result processing."""
    with raw_connection(session).cursor() as cursor:
        set_json_loads(exact_loads, cursor)  # (this cursor's only)
        cursor.execute(statement, parameters)
        columns = cursor.description or ()
        names = [column.name for column in columns]
        instants = [n for n, column in enumerate(columns) if column.type_code == _TIMESTAMPTZ]
        found = []
        for row in cursor.fetchall():
            values = list(row)
            for n in instants:
                if values[n] is not None:
                    values[n] = values[n].astimezone(UTC)
            found.append(dict(zip(names, values, strict=True)))
        return found


_TIMESTAMPTZ = 1184
"""PostgreSQL's type oid of timestamptz (returned by psycopg in the session's zone; journeys hold UTC)."""


_LONG_NUMBER = re.compile(rb"\d{19}")
"""19 digits in a row: where a number orjson would read otherwise than the json module may start."""


def exact_loads(text: bytes | str) -> Any:
    """`json.loads(text)`, by orjson at a fifth of the cost (journeys' memory: 12 % of the hand-off's CPU was reading
    the journeys a batch may steer, a third of it decoding their JSON) wherever orjson gives the same: it makes a
    float of an integer beyond 64 bits and refuses a number beyond a double's range, so a text with 19 digits in a
    row, or one orjson refuses, is read by the json module."""
    data = text.encode() if isinstance(text, str) else text
    if _LONG_NUMBER.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
