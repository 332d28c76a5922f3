"""What the arbiter knows of a person besides its decisions: exclusion lists, cool-offs, consents denied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.arbiter.domain.screening import CoolOffFact, ExclusionFact, PersonFacts
from services.arbiter.storage import raw
from services.arbiter.storage.tables import consents, cool_offs, exclusions

FACTS = """
SELECT 'exclusion', customer_id, list, reason, source, expires_at FROM exclusions
 WHERE customer_id = ANY(%(ids)s::text[]) AND (expires_at IS NULL OR expires_at > %(now)s)
UNION ALL
SELECT 'cool_off', customer_id, kind::text, channel::text, '', until FROM cool_offs
 WHERE customer_id = ANY(%(ids)s::text[]) AND until > %(now)s
UNION ALL
SELECT 'denied', customer_id, channel::text, '', '', at FROM consents
 WHERE customer_id = ANY(%(ids)s::text[]) AND NOT granted
"""
"""The people's exclusions, cool-offs and denied consents in force at `now`, as (kind, customer, …) rows."""


def facts_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, PersonFacts]:
    found: dict[str, tuple[list[ExclusionFact], list[CoolOffFact], set[str]]] = {}
    for kind, customer_id, first, second, third, at in rows:
        exclusions_of, cool_offs_of, denied = found.setdefault(customer_id, ([], [], set()))
        if kind == "exclusion":
            exclusions_of.append(ExclusionFact(first, second, third, _utc(at)))
        elif kind == "cool_off":
            cool_offs_of.append(CoolOffFact(first, second, _utc(at)))  # type: ignore[arg-type]
        else:
            denied.add(first)
    return {cid: PersonFacts(tuple(ex), tuple(co), frozenset(de)) for cid, (ex, co, de) in found.items()}


class PeopleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def facts(self, customer_ids: Sequence[str], now: datetime) -> dict[str, PersonFacts]:
        """Each person's exclusions, cool-offs and denied consents in force at `now` (absent: nothing known); one
        statement for the three."""
        return facts_from_rows(raw.run(self._session, FACTS, {"ids": sorted(set(customer_ids)), "now": now}))

    def record_consent(self, customer_id: str, channel: str, granted: bool, at: datetime) -> None:
        """A consent given or withdrawn at `at`; an older one than the one kept changes nothing."""
        statement = insert(consents).values(customer_id=customer_id, channel=channel, granted=granted, at=at)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["customer_id", "channel"],
            set_={"granted": statement.excluded.granted, "at": statement.excluded.at},
            where=consents.c.at <= statement.excluded.at))

    def exclude(self, customer_id: str, list_name: str, reason: str, source: str, expires_at: datetime | None,
                now: datetime) -> None:
        """Put the person on the list (again: the reason, source and expiry are replaced)."""
        values = {"reason": reason, "source": source, "expires_at": expires_at, "created_at": now}
        statement = insert(exclusions).values(customer_id=customer_id, list=list_name, **values)
        self._session.execute(statement.on_conflict_do_update(index_elements=["customer_id", "list"], set_=values))

    def unexclude(self, customer_id: str, list_name: str) -> bool:
        result = self._session.execute(delete(exclusions).where(exclusions.c.customer_id == customer_id,
                                                                exclusions.c.list == list_name))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def list_exclusions(self, customer_id: str, list_name: str, limit: int,
                        after: tuple[str, str] | None) -> list[tuple[str, ExclusionFact, datetime]]:
        """Exclusions ordered by (list, customer id), after `after`; rows as (customer_id, fact, created_at)."""
        query = select(exclusions).order_by(exclusions.c.list, exclusions.c.customer_id).limit(limit)
        if customer_id:
            query = query.where(exclusions.c.customer_id == customer_id)
        if list_name:
            query = query.where(exclusions.c.list == list_name)
        if after is not None:
            query = query.where(tuple_(exclusions.c.list, exclusions.c.customer_id) > tuple_(*after))
        return [(row.customer_id, ExclusionFact(row.list, row.reason, row.source, row.expires_at), row.created_at)
                for row in self._session.execute(query)]

    def cool_off(self, customer_id: str, kind: str, channel: str, until: datetime) -> None:
        """Start (or lengthen) a cool-off; a shorter one never shortens a longer one."""
        statement = insert(cool_offs).values(customer_id=customer_id, kind=kind, channel=channel, until=until)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["customer_id", "kind", "channel"], set_={"until": statement.excluded.until},
            where=cool_offs.c.until < statement.excluded.until))

    def move(self, from_ids: Sequence[str], to_id: str) -> None:
        """A merge: the merged people's lists and cool-offs become the survivor's (the survivor's row wins a tie)."""
        for customer_id in from_ids:
            for row in self._session.execute(select(exclusions).where(exclusions.c.customer_id == customer_id)):
                self.exclude(to_id, row.list, row.reason, row.source, row.expires_at, row.created_at)
            for row in self._session.execute(select(cool_offs).where(cool_offs.c.customer_id == customer_id)):
                self.cool_off(to_id, row.kind, row.channel, row.until)
            for row in self._session.execute(select(consents).where(consents.c.customer_id == customer_id)):
                self.record_consent(to_id, row.channel, row.granted, row.at)
        self.erase(*from_ids)

    def erase(self, *customer_ids: str) -> None:
        for table in (exclusions, cool_offs, consents):
            self._session.execute(delete(table).where(table.c.customer_id.in_(list(customer_ids))))


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None
