"""Scenario's tables: processed hand-off records (inbox) and firings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime, insert_for
from declic.kit.inbox import inbox_table
from services.scenario.domain.firings import Firing, FiringState

metadata = MetaData()
inbox = inbox_table(metadata)

firings = Table(
    "firings",
    metadata,
    Column("firing_id", String(64), primary_key=True),
    Column("scenario_id", String(100), nullable=False),
    Column("step_id", String(100), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("channels", Text, nullable=False),
    Column("template_id", String(100), nullable=False),
    Column("variables", Text, nullable=False),
    Column("transactional", Integer, nullable=False),
    Column("cause_event_id", String(200), nullable=False),
    Column("fired_at", UtcDateTime(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("trace_context", Text, nullable=False, server_default=""),
    Index("ix_firings_due", "state", "next_attempt_at"),
    Index("ix_firings_customer", "customer_id"),
)


class FiringRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, firing: Firing) -> bool:
        """Store a new firing; False when the same firing id exists (it fired already)."""
        statement = (
            insert_for(self._session, firings)
            .values(**_to_row(firing))
            .on_conflict_do_nothing(index_elements=["firing_id"])
            .returning(firings.c.firing_id)
        )
        return self._session.execute(statement).first() is not None

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Firing]:
        """Pending firings due now, leased to this worker (others skip them until the lease ends)."""
        query = (
            select(firings)
            .where(firings.c.state == FiringState.PENDING.value, firings.c.next_attempt_at <= now)
            .order_by(firings.c.priority.desc(), firings.c.next_attempt_at)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = [_to_firing(row) for row in self._session.execute(query)]
        if due:
            self._session.execute(
                update(firings)
                .where(firings.c.firing_id.in_([f.firing_id for f in due]))
                .values(next_attempt_at=now + lease, attempts=firings.c.attempts + 1)
            )
        return due

    def settle(self, firing_id: str, state: FiringState, detail: str, next_attempt_at: datetime | None) -> None:
        self._session.execute(
            update(firings)
            .where(firings.c.firing_id == firing_id)
            .values(state=state.value, detail=detail, next_attempt_at=next_attempt_at)
        )

    def for_customer(self, customer_id: str) -> list[Firing]:
        query = select(firings).where(firings.c.customer_id == customer_id).order_by(firings.c.fired_at)
        return [_to_firing(row) for row in self._session.execute(query)]

    def move_customer(self, from_id: str, to_id: str) -> None:
        """After a merge: the survivor takes over pending firings, except those it already has."""
        survivor_steps = {(f.scenario_id, f.step_id) for f in self.for_customer(to_id)}
        for firing in self.for_customer(from_id):
            if firing.state is not FiringState.PENDING:
                continue
            if (firing.scenario_id, firing.step_id) in survivor_steps:
                self.settle(firing.firing_id, FiringState.SUPPRESSED,
                            f"duplicate: merged into {to_id}, which has this step already", None)
            else:
                self._session.execute(
                    update(firings).where(firings.c.firing_id == firing.firing_id).values(customer_id=to_id)
                )

    def forget_customer(self, customer_id: str) -> None:
        self._session.execute(firings.delete().where(firings.c.customer_id == customer_id))


def _to_row(firing: Firing) -> dict:
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


def _to_firing(row: object) -> Firing:
    data = dict(row._mapping)  # type: ignore[attr-defined]
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
