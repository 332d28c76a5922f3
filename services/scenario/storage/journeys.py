"""Journeys: entered once per id, claimed when due (leased, `FOR UPDATE SKIP LOCKED`), saved only by the one
who holds the version it read — a worker whose journey was interrupted meanwhile loses its write."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Row,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from services.scenario.domain.journeys import OPEN, Journey, JourneyState
from services.scenario.storage import journey_sql as sql
from services.scenario.storage.tables import journeys

_OPEN = [state.value for state in OPEN]


class JourneyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def enter(self, journey: Journey) -> bool:
        """Store a new journey; when it exists already and is open, count one more occurrence of its trigger.
        True when it is new."""
        statement = insert(journeys).values(**to_row(journey))
        upsert: Any = statement.on_conflict_do_update(
            index_elements=["journey_id"], set_={"occurrences": journeys.c.occurrences + 1},
            where=journeys.c.state.in_(_OPEN),
        ).returning(literal_column("(xmax = 0)"))
        return bool(self._session.execute(upsert).scalar())

    def enter_many(self, new: Sequence[Journey], count_occurrences: bool = False,
                   once_per: Mapping[str, timedelta] | None = None,
                   met: Callable[[Journey], bool] | None = None) -> int:
        """Store many new journeys (no two with one id). One that exists already is left as it is, or, with
        `count_occurrences`, counts these occurrences too while it is open. With `once_per` (scenario → period;
        counting occurrences), a journey is neither entered nor counted when its customer's last entry into its
        scenario, another journey, is within the scenario's period before its entry. How many were new.

        `met`: whether a journey was met before (counting occurrences): most likely stored already or held back,
        those are settled on their ids first and only the ones to enter are sent whole; the others are sent whole
        at once (cheaper when they are new)."""
        if not new:
            return 0
        rows = sql.Rows()
        if not count_occurrences:
            if once_per:
                raise ValueError("once_per is checked only when counting occurrences")
            written = sql.write(self._session, sql.ENTER, [rows.values_of(j, j.entered_at, j.version) for j in new])
            return sum(1 for is_new in written if is_new)
        periods = once_per or {}
        whole: list[Journey] = []
        known: list[Journey] = []
        for journey in new:
            (known if met is not None and met(journey) else whole).append(journey)
        if known:
            known.sort(key=lambda journey: journey.journey_id)
            entries = [rows.entry_of(journey, periods.get(journey.scenario_id)) for journey in known]
            fresh = set(sql.write(self._session, sql.TRIAGE, entries))
            whole.extend(journey for journey in known if journey.journey_id in fresh)
        if not whole:
            return 0
        values = [rows.entered(journey, periods.get(journey.scenario_id)) for journey in whole]
        return sum(1 for is_new in sql.write(self._session, sql.ENTER_COUNTING, values) if is_new)

    def save_many(self, changed: Sequence[Journey], now: datetime) -> set[str]:
        """Write each journey nobody changed since it was read (same version), in one statement; the ids written."""
        if not changed:
            return set()
        rows = sql.Rows()
        values = [rows.values_of(journey, now, journey.version + 1)
                  for journey in sorted(changed, key=lambda journey: journey.journey_id)]
        return set(sql.write(self._session, sql.SAVE, values))

    def enter_segment(self, template: Journey, customer_ids: Sequence[str], first_due: datetime,
                      seconds_apart: float = 0.0) -> int:
        """Enter every customer of `customer_ids` as a copy of `template` (its scenario, entry key, state…), in
        one statement, ids computed by the database as `journey_id_for` computes them; the n-th is due
        `n × seconds_apart` after `first_due` (a campaign's pace). Those entered already are left as they are."""
        if not customer_ids:
            return 0
        given = func.unnest(bindparam("customer_ids", list(customer_ids), type_=ARRAY(String()))).table_valued(
            "customer_id", with_ordinality="n").render_derived()
        key = func.convert_to(literal(template.scenario_id + "|") + given.c.customer_id
                              + literal("|" + template.entry_key), "UTF8")
        row = to_row(template)
        columns = {**{name: literal(value, journeys.c[name].type) for name, value in row.items()},
                   "journey_id": func.left(func.encode(func.sha256(key), "hex"), 32),
                   "customer_id": given.c.customer_id,
                   "due_at": literal(first_due, journeys.c.due_at.type) + func.make_interval(
                       0, 0, 0, 0, 0, 0, (given.c.n - 1) * seconds_apart)}
        names = list(columns)
        statement = insert(journeys).from_select(names, select(*[columns[name] for name in names]).select_from(given))
        done = statement.on_conflict_do_nothing(index_elements=["journey_id"]).returning(journeys.c.journey_id)
        return len(self._session.execute(done).all())

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Journey]:
        """Journeys due now, leased to this worker: other replicas skip them while locked, then until the lease
        ends. Each comes back with the version its save must match."""
        due = select(journeys.c.journey_id).where(journeys.c.due_at <= now).order_by(journeys.c.due_at).limit(
            limit).with_for_update(skip_locked=True).cte("due")
        statement = (update(journeys).where(journeys.c.journey_id.in_(select(due.c.journey_id)))
                     .values(due_at=now + lease, version=journeys.c.version + 1).returning(*journeys.c))
        return [to_journey(row) for row in self._session.execute(statement)]

    def save(self, journey: Journey, now: datetime) -> bool:
        """Write the journey if nobody changed it since it was read (same version); False when somebody did."""
        row = _saved(journey, now)
        statement = update(journeys).where(journeys.c.journey_id == journey.journey_id,
                                           journeys.c.version == journey.version).values(**row)
        return self._session.execute(statement).rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def of_customer(self, customer_id: str, since: datetime | None = None, lock: bool = False) -> list[Journey]:
        """The customer's journeys (entered after `since` when given), oldest first; locked for update if asked."""
        query = select(journeys).where(journeys.c.customer_id == customer_id)
        if since is not None:
            query = query.where(journeys.c.entered_at >= since)
        query = query.order_by(journeys.c.entered_at, journeys.c.journey_id)
        if lock:
            query = query.with_for_update()
        return [to_journey(row) for row in self._session.execute(query)]

    def of_customers(self, wanted: Collection[tuple[str, str]], lock: bool = False,
                     goals_since: datetime | None = None) -> list[Journey]:
        """The open journeys of each (customer, scenario) wanted, and with `goals_since` the ended ones entered since
        then whose goal is not reached (locked for update if asked, in a stable order: no deadlock)."""
        if not wanted:
            return []
        statement = sql.OPEN_OF_CUSTOMERS if goals_since is None else sql.OPEN_OR_GOAL_OF_CUSTOMERS
        rows = sql.read(self._session, statement + (" FOR UPDATE" if lock else ""),
                        {**sql.pairs(wanted), "since": goals_since})
        return [journey_of(row) for row in rows]

    def last_entries(self, wanted: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[datetime, str]]:
        """Each (customer, scenario) pair's last entry, (entered at, journey id), for the pairs that have one."""
        if not wanted:
            return {}
        rows = sql.read(self._session, sql.LAST_ENTRIES, sql.pairs(wanted))
        return {(row["customer_id"], row["scenario_id"]): (row["entered_at"], row["journey_id"]) for row in rows}

    def page_of_customer(self, customer_id: str, limit: int, after: tuple[datetime, str] | None) -> list[Journey]:
        order = (journeys.c.entered_at, journeys.c.journey_id)
        query = select(journeys).where(journeys.c.customer_id == customer_id).order_by(*order).limit(limit)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        return [to_journey(row) for row in self._session.execute(query)]

    def forget_customer(self, customer_id: str) -> None:
        """Erase the customer's journeys (GDPR)."""
        self._session.execute(journeys.delete().where(journeys.c.customer_id == customer_id))

    def give_to(self, journey_ids: list[str], customer_id: str) -> None:
        if journey_ids:
            self._session.execute(update(journeys).where(journeys.c.journey_id.in_(journey_ids))
                                  .values(customer_id=customer_id, version=journeys.c.version + 1))

    def count_open(self) -> int:
        return self._session.execute(select(func.count()).where(journeys.c.state.in_(_OPEN))).scalar_one()


def to_row(journey: Journey, now: datetime | None = None) -> dict[str, object]:
    return {
        "journey_id": journey.journey_id, "scenario_id": journey.scenario_id, "customer_id": journey.customer_id,
        "entry_key": journey.entry_key, "state": journey.state.value, "step": journey.step,
        "due_at": journey.due_at, "entered_at": journey.entered_at, "updated_at": now or journey.entered_at,
        "cause_event_id": journey.cause_event_id, "waiting_for": journey.waiting_for, "detail": journey.detail,
        "occurrences": journey.occurrences, "goal_at": journey.goal_at, "variables": journey.variables,
        "memory": journey.memory, "version": journey.version,
    }


def _saved(journey: Journey, now: datetime) -> dict[str, object]:
    row = to_row(journey, now)
    row["version"] = journey.version + 1
    return row


def to_journey(row: Row) -> Journey:
    return journey_of(row._mapping)


def journey_of(data: Mapping[Any, Any]) -> Journey:
    return Journey(
        journey_id=data["journey_id"], scenario_id=data["scenario_id"], customer_id=data["customer_id"],
        entry_key=data["entry_key"], state=JourneyState(data["state"]), entered_at=data["entered_at"],
        due_at=data["due_at"], cause_event_id=data["cause_event_id"], step=data["step"], detail=data["detail"],
        waiting_for=data["waiting_for"], occurrences=data["occurrences"], goal_at=data["goal_at"],
        variables=data["variables"], memory=data["memory"], version=data["version"],
    )

