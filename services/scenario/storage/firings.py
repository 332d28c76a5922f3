"""Firings: stored once per firing id, claimed when due, settled after each attempt."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, case, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime
from declic.kit.sql_sets import BatchInsert
from services.scenario.domain.firings import OPEN_STATES, Firing, FiringState, Settlement
from services.scenario.storage.tables import firings


class FiringRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, firing: Firing) -> bool:
        """Store a new firing; False when the same firing id exists (it fired already)."""
        statement = (
            insert(firings)
            .values(**_to_row(firing))
            .on_conflict_do_nothing(index_elements=["firing_id"])
            .returning(firings.c.firing_id)
        )
        return self._session.execute(statement).first() is not None

    def add_many(self, new: list[Firing]) -> int:
        """Store new firings in one statement; those whose id exists (fired already) are left as they are."""
        if not new:
            return 0
        unique = {firing.firing_id: _to_row(firing) for firing in new}  # one row per id: the statement is set-based
        result = _ADD.execute(self._session, list(unique.values()))
        return len(result.all()) if result is not None else 0

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Firing]:
        """Open firings (pending or deferred) due now, leased to this worker: other replicas skip them while
        they are locked, and until the lease ends."""
        query = (
            select(firings)
            .where(firings.c.state.in_([state.value for state in OPEN_STATES]), firings.c.next_attempt_at <= now)
            .order_by(firings.c.priority.desc(), firings.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        due = [_to_firing(row) for row in self._session.execute(query)]
        if due:
            self._session.execute(
                update(firings)
                .where(firings.c.firing_id.in_([f.firing_id for f in due]))
                .values(next_attempt_at=now + lease, attempts=firings.c.attempts + 1)
            )
        return due

    def settle(self, firing_id: str, settlement: Settlement) -> None:
        """Record where an attempt left the firing."""
        self._session.execute(
            update(firings)
            .where(firings.c.firing_id == firing_id)
            .values(
                state=settlement.state.value, detail=settlement.detail, next_attempt_at=settlement.next_attempt_at
            )
        )

    def settle_open(self, firing_ids: list[str], settlement: Settlement) -> None:
        """Settle those of these firings still open (not sent yet); the others stay as they are. Suppressing one
        the arbiter was already asked about withdraws it first, as `domain.firings.stopped` says: WITHDRAWING, due
        at once (its fired_at), so that the delivery loop gives its slot back."""
        if not firing_ids:
            return
        asked = firings.c.attempts > 0
        state: ColumnElement[Any] = literal(settlement.state.value)
        due: ColumnElement[Any] = literal(settlement.next_attempt_at, UtcDateTime())
        if settlement.state is FiringState.SUPPRESSED:
            state = case((asked, FiringState.WITHDRAWING.value), else_=state)
            due = case((asked, firings.c.fired_at), else_=due)
        self._session.execute(
            update(firings)
            .where(firings.c.firing_id.in_(firing_ids), firings.c.state.in_([s.value for s in OPEN_STATES]))
            .values(state=state, detail=settlement.detail, next_attempt_at=due)
        )

    def for_customer(self, customer_id: str, limit: int | None = None,
                     after: tuple[datetime, str] | None = None) -> list[Firing]:
        """The customer's firings (`limit` of them when given), oldest first, after the (fired_at, firing_id)
        `after`."""
        order = (firings.c.fired_at, firings.c.firing_id)
        query = select(firings).where(firings.c.customer_id == customer_id).order_by(*order).limit(limit)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        return [_to_firing(row) for row in self._session.execute(query)]

    def give_to(self, firing_ids: list[str], customer_id: str) -> None:
        """After a merge: the survivor `customer_id` takes over these firings."""
        if firing_ids:
            self._session.execute(
                update(firings).where(firings.c.firing_id.in_(firing_ids)).values(customer_id=customer_id)
            )

    def forget_customer(self, customer_id: str) -> None:
        """Erase the customer's firings (GDPR)."""
        self._session.execute(firings.delete().where(firings.c.customer_id == customer_id))


_ADD = BatchInsert(firings, tuple(c.name for c in firings.c), lambda insert: insert.on_conflict_do_nothing(
    index_elements=["firing_id"]).returning(firings.c.firing_id))


def _to_row(firing: Firing) -> dict[str, object]:
    return {
        "firing_id": firing.firing_id,
        "scenario_id": firing.scenario_id,
        "step_id": firing.step_id,
        "customer_id": firing.customer_id,
        "priority": firing.priority,
        "channels": ",".join(firing.channels),
        "template_id": firing.template_id,
        "variables": json.dumps(firing.variables),
        "transactional": int(firing.transactional),
        "cause_event_id": firing.cause_event_id,
        "fired_at": firing.fired_at,
        "state": firing.state.value,
        "detail": firing.detail,
        "attempts": firing.attempts,
        "next_attempt_at": firing.next_attempt_at,
        "trace_context": json.dumps(firing.trace_context) if firing.trace_context else "",
    }


def _to_firing(row: Row) -> Firing:
    data = row._mapping
    return Firing(
        firing_id=data["firing_id"],
        scenario_id=data["scenario_id"],
        step_id=data["step_id"],
        customer_id=data["customer_id"],
        priority=data["priority"],
        channels=tuple(c for c in data["channels"].split(",") if c),
        template_id=data["template_id"],
        fired_at=data["fired_at"],
        cause_event_id=data["cause_event_id"],
        variables=json.loads(data["variables"]),
        transactional=bool(data["transactional"]),
        state=FiringState(data["state"]),
        detail=data["detail"],
        attempts=data["attempts"],
        next_attempt_at=data["next_attempt_at"],
        trace_context=json.loads(data["trace_context"]) if data["trace_context"] else {},
    )
