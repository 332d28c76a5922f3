"""The decisions taken: one row per firing (the contact history). A final decision is never replaced; a deferred
one is, when the firing is decided again. The slots that count are the truth Redis is rebuilt from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select, tuple_, update

from services.arbiter.domain.decisions import Decision, Outcome, RuleCheck, SlotState, SuppressReason, Verdict
from services.arbiter.domain.screening import PersonFacts
from services.arbiter.storage import raw
from services.arbiter.storage.counters import Slot
from services.arbiter.storage.people import FACTS, facts_from_rows
from services.arbiter.storage.tables import decisions

_MIRRORED = [SlotState.HELD.value, SlotState.RESERVED.value, SlotState.CONFIRMED.value, SlotState.DISPLACED.value]
_COUNTING_SLOTS = ("SELECT customer_id, firing_id, slot, verdict, displaced_by, slot_at, channel, category, priority,"
                   " cause_event_id, hold_until FROM decisions"
                   " WHERE customer_id = ANY(%s::text[]) AND slot_at >= %s AND slot = ANY(%s::text[])")
Mirror = tuple[list[Slot], list[tuple[str, str]]]
"""A person's counting slots and displaced (firing, winner) pairs."""


def _row(decision: Decision) -> dict[str, object]:
    """The decision as its row, for orjson (instants as RFC 3339 text, enums as their values; the rules as a nested
    array, which jsonb_populate_recordset stores as its JSON text in the text column)."""
    return {
        "firing_id": decision.firing_id,
        "customer_id": decision.customer_id,
        "scenario_id": decision.scenario_id,
        "verdict": decision.verdict,
        "channel": decision.channel,
        "reason": decision.reason,
        "explanation": decision.explanation,
        "defer_until": decision.defer_until,
        "decided_at": decision.decided_at,
        "category": decision.category,
        "priority": decision.priority,
        "cause_event_id": decision.cause_event_id,
        "policy_version": decision.policy_version,
        "rules": [(check.rule, check.outcome, check.detail) for check in decision.rules],
        "slot": decision.slot,
        "slot_at": decision.slot_at,
        "hold_until": decision.defer_until if decision.slot is SlotState.HELD else None,
        "displaced_by": decision.displaced_by,
    }


COLUMNS = tuple(column.name for column in decisions.c)
_READ = f"SELECT {', '.join(COLUMNS)} FROM decisions WHERE firing_id = ANY(%s::text[])"
_UPSERT = (f"INSERT INTO decisions ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)}"
           " FROM jsonb_populate_recordset(NULL::decisions, %s::jsonb)"
           " ON CONFLICT (firing_id) DO UPDATE SET " + ", ".join(f"{name} = EXCLUDED.{name}" for name in COLUMNS[1:])
           + f" WHERE decisions.verdict = '{Verdict.DEFER.value}' RETURNING firing_id")
"""One statement for every batch, the rows in one JSON parameter (its text does not depend on the batch's size, so it
is parsed and prepared once; one JSON text costs the client a tenth of one binary array per column): a final
decision is never replaced, a deferred one is."""


_READ_WITH_FACTS = (
    f"SELECT 'decision', {', '.join(COLUMNS)} FROM decisions WHERE firing_id = ANY(%(firings)s::text[]) UNION ALL"
    f" SELECT kind, customer_id, first, second, third, NULL, NULL, NULL, at, {', '.join(['NULL'] * 10)}"
    f" FROM ({FACTS}) AS facts (kind, customer_id, first, second, third, at)")
"""The stored decisions and the people's facts in one statement (psycopg's pipeline mode would send two in one
round trip too, at twice the client's CPU): a fact's six values sit in the first columns, its instant in
defer_until's."""
_AT = COLUMNS.index("defer_until") + 1


def stored_and_facts(session: raw.Bind, firing_ids: Sequence[str], customer_ids: Sequence[str],
                     now: datetime) -> tuple[dict[str, Decision], dict[str, PersonFacts]]:
    """The decisions stored for `firing_ids`, and the people's facts in force at `now`: one statement."""
    rows = raw.run(session, _READ_WITH_FACTS, {"firings": list(firing_ids), "ids": sorted(set(customer_ids)),
                                               "now": now})
    found = [row[1:] for row in rows if row[0] == "decision"]
    facts = [(*row[:5], row[_AT]) for row in rows if row[0] != "decision"]
    return _decisions(found), facts_from_rows(facts)


def _decisions(rows: Sequence[Sequence[Any]]) -> dict[str, Decision]:
    return {row[0]: decision_from(dict(zip(COLUMNS, row, strict=True))) for row in rows}


class DecisionRepository:
    def __init__(self, session: raw.Bind) -> None:
        self._session = session

    def add_once(self, decision: Decision) -> bool:
        """Store `decision` unless a final one exists for the firing (a deferred one is replaced); True when stored."""
        return bool(self.add_many([decision]))

    def add_many(self, found: Sequence[Decision]) -> set[str]:
        """Store each decision unless a final one exists for its firing; the firing ids stored."""
        if not found:
            return set()
        # orjson: a tenth of the json module's time for a batch's rows (which was a tenth of a DecideBatch's CPU)
        stored = raw.run(self._session, _UPSERT, [orjson.dumps([_row(d) for d in found]).decode()])
        return {firing_id for (firing_id,) in stored}

    def get(self, firing_id: str) -> Decision | None:
        """The decision taken for `firing_id`, if any."""
        return self.get_many([firing_id]).get(firing_id)

    def get_many(self, firing_ids: Sequence[str]) -> dict[str, Decision]:
        return _decisions(raw.run(self._session, _READ, [list(firing_ids)]))

    def set_slot(self, firing_ids: Sequence[str], slot: SlotState, displaced_by: str = "") -> None:
        """Mark slots displaced, confirmed or released (the decision itself stays as it was given)."""
        if firing_ids:
            values: dict[str, object] = {"slot": slot.value}
            if displaced_by:
                values["displaced_by"] = displaced_by
            self._session.execute(update(decisions).where(decisions.c.firing_id.in_(list(firing_ids))).values(values))

    def counting_slots(self, customer_ids: Sequence[str], since: datetime) -> dict[str, Mirror]:
        """Each person's slots that count (and the displaced ones not yet told), for rebuilding their counters."""
        found: dict[str, Mirror] = {customer_id: ([], []) for customer_id in customer_ids}
        for (customer_id, firing_id, slot, verdict, displaced_by, slot_at, channel, category, priority, event,
             hold_until) in raw.run(self._session, _COUNTING_SLOTS, [sorted(set(customer_ids)), since, _MIRRORED]):
            slots, displaced = found[customer_id]
            if slot == SlotState.DISPLACED.value:
                if verdict == Verdict.DEFER.value:
                    displaced.append((firing_id, displaced_by or "?"))
                continue
            slots.append(Slot(firing_id, SlotState(slot), _utc(slot_at), channel, category,  # type: ignore[arg-type]
                              priority, event, _utc(hold_until)))
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
        return [decision_from(row._mapping) for row in self._session.execute(query)]


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def decision_from(data: Mapping[Any, Any]) -> Decision:
    """A decision from its row (columns by name)."""
    return Decision(
        firing_id=data["firing_id"],
        customer_id=data["customer_id"],
        scenario_id=data["scenario_id"],
        verdict=Verdict(data["verdict"]),
        decided_at=_utc(data["decided_at"]),  # type: ignore[arg-type]
        channel=data["channel"],
        reason=SuppressReason(data["reason"]),
        explanation=data["explanation"],
        defer_until=_utc(data["defer_until"]),
        rules=tuple(RuleCheck(rule, Outcome(outcome), detail)
                    for rule, outcome, detail in json.loads(data["rules"] or "[]")),
        policy_version=data["policy_version"],
        category=data["category"],
        priority=data["priority"],
        cause_event_id=data["cause_event_id"],
        slot=SlotState(data["slot"]),
        slot_at=_utc(data["slot_at"]),
        displaced_by=data["displaced_by"],
    )
