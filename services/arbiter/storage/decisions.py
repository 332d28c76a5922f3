"""The decisions taken: one row per firing (the contact history). A final decision is never replaced; a deferred
one is, when the firing is decided again. The slots that count are the truth Redis is rebuilt from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select, tuple_, update
from sqlalchemy.orm import Session

from declic.kit.sql_sets import BatchInsert
from services.arbiter.domain.decisions import Decision, Outcome, RuleCheck, SlotState, SuppressReason, Verdict
from services.arbiter.storage.counters import Slot
from services.arbiter.storage.tables import decisions

_COUNTING = [SlotState.HELD.value, SlotState.RESERVED.value, SlotState.CONFIRMED.value]
Mirror = tuple[list[Slot], list[tuple[str, str]]]
"""A person's counting slots and displaced (firing, winner) pairs."""


def _row(decision: Decision) -> dict[str, object]:
    return {
        "firing_id": decision.firing_id,
        "customer_id": decision.customer_id,
        "scenario_id": decision.scenario_id,
        "verdict": decision.verdict.value,
        "channel": decision.channel,
        "reason": decision.reason.value,
        "explanation": decision.explanation,
        "defer_until": decision.defer_until,
        "decided_at": decision.decided_at,
        "category": decision.category,
        "priority": decision.priority,
        "cause_event_id": decision.cause_event_id,
        "policy_version": decision.policy_version,
        "rules": json.dumps([[check.rule, check.outcome.value, check.detail] for check in decision.rules]),
        "slot": decision.slot.value,
        "slot_at": decision.slot_at,
        "hold_until": decision.defer_until if decision.slot is SlotState.HELD else None,
        "displaced_by": decision.displaced_by,
    }


_UPSERT = BatchInsert(decisions, [column.name for column in decisions.c], lambda insert: insert.on_conflict_do_update(
    index_elements=["firing_id"],
    set_={column.name: insert.excluded[column.name] for column in decisions.c if column.name != "firing_id"},
    where=decisions.c.verdict == Verdict.DEFER.value,
).returning(decisions.c.firing_id))
"""One statement for every batch (array parameters: its text does not depend on the batch's size, so it is parsed
and planned once): a final decision is never replaced, a deferred one is."""


class DecisionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, decision: Decision) -> bool:
        """Store `decision` unless a final one exists for the firing (a deferred one is replaced); True when stored."""
        return bool(self.add_many([decision]))

    def add_many(self, found: Sequence[Decision]) -> set[str]:
        """Store each decision unless a final one exists for its firing; the firing ids stored."""
        if not found:
            return set()
        result = _UPSERT.execute(self._session, [_row(d) for d in found])
        return set(result.scalars()) if result is not None else set()

    def get(self, firing_id: str) -> Decision | None:
        """The decision taken for `firing_id`, if any."""
        row = self._session.execute(select(decisions).where(decisions.c.firing_id == firing_id)).first()
        return _to_decision(row) if row else None

    def get_many(self, firing_ids: Sequence[str]) -> dict[str, Decision]:
        rows = self._session.execute(select(decisions).where(decisions.c.firing_id.in_(list(firing_ids))))
        return {row.firing_id: _to_decision(row) for row in rows}

    def set_slot(self, firing_ids: Sequence[str], slot: SlotState, displaced_by: str = "") -> None:
        """Mark slots displaced, confirmed or released (the decision itself stays as it was given)."""
        if firing_ids:
            values: dict[str, object] = {"slot": slot.value}
            if displaced_by:
                values["displaced_by"] = displaced_by
            self._session.execute(update(decisions).where(decisions.c.firing_id.in_(list(firing_ids))).values(values))

    def counting_slots(self, customer_ids: Sequence[str], since: datetime) -> dict[str, Mirror]:
        """Each person's slots that count (and the displaced ones not yet told), for rebuilding their counters."""
        query = select(decisions).where(decisions.c.customer_id.in_(list(customer_ids)), decisions.c.slot_at >= since,
                                        decisions.c.slot.in_([*_COUNTING, SlotState.DISPLACED.value]))
        found: dict[str, Mirror] = {customer_id: ([], []) for customer_id in customer_ids}
        for row in self._session.execute(query):
            slots, displaced = found[row.customer_id]
            if row.slot == SlotState.DISPLACED.value:
                if row.verdict == Verdict.DEFER.value:
                    displaced.append((row.firing_id, row.displaced_by or "?"))
                continue
            slots.append(Slot(row.firing_id, SlotState(row.slot), row.slot_at, row.channel, row.category,
                              row.priority, row.cause_event_id, row.hold_until))
        return found

    def move(self, from_ids: Sequence[str], to_id: str) -> None:
        """A merge: the merged people's history becomes the survivor's."""
        self._session.execute(update(decisions).where(decisions.c.customer_id.in_(list(from_ids)))
                              .values(customer_id=to_id))

    def erase(self, customer_id: str) -> None:
        self._session.execute(delete(decisions).where(decisions.c.customer_id == customer_id))

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
        rules=tuple(RuleCheck(rule, Outcome(outcome), detail)
                    for rule, outcome, detail in json.loads(data["rules"] or "[]")),
        policy_version=data["policy_version"],
        category=data["category"],
        priority=data["priority"],
        cause_event_id=data["cause_event_id"],
        slot=SlotState(data["slot"]),
        slot_at=data["slot_at"],
        displaced_by=data["displaced_by"],
    )
