"""The decisions already taken: one per firing, the first one wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.arbiter.domain.decisions import Decision, SuppressReason, Verdict
from services.arbiter.storage.tables import decisions


class DecisionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, decision: Decision) -> bool:
        """Store `decision` unless one exists for the firing; True when stored."""
        statement = (
            insert(decisions)
            .values(
                firing_id=decision.firing_id,
                customer_id=decision.customer_id,
                scenario_id=decision.scenario_id,
                verdict=decision.verdict.value,
                channel=decision.channel,
                reason=decision.reason.value,
                explanation=decision.explanation,
                defer_until=decision.defer_until,
                decided_at=decision.decided_at,
            )
            .on_conflict_do_nothing(index_elements=["firing_id"])
            .returning(decisions.c.firing_id)
        )
        return self._session.execute(statement).first() is not None

    def get(self, firing_id: str) -> Decision | None:
        """The decision taken for `firing_id`, if any."""
        row = self._session.execute(select(decisions).where(decisions.c.firing_id == firing_id)).first()
        return _to_decision(row) if row else None

    def history(self, customer_id: str, limit: int, after: tuple[datetime, str] | None = None) -> list[Decision]:
        """`limit` of the person's decisions, newest first, after the (decided_at, firing_id) `after`."""
        order = (decisions.c.decided_at, decisions.c.firing_id)
        query = (
            select(decisions)
            .where(decisions.c.customer_id == customer_id)
            .order_by(*(column.desc() for column in order))
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(*order) < tuple_(*after))
        return [_to_decision(row) for row in self._session.execute(query)]


def _to_decision(row: Row) -> Decision:
    data = row._mapping
    return Decision(
        firing_id=data["firing_id"],
        customer_id=data["customer_id"],
        scenario_id=data["scenario_id"],
        verdict=Verdict(data["verdict"]),
        decided_at=data["decided_at"],
        channel=data["channel"],
        reason=SuppressReason(data["reason"]),
        explanation=data["explanation"],
        defer_until=data["defer_until"],
    )
