"""Paused scenarios, and the runs of time-based scenarios (one replica runs each slot)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.scenario.storage.tables import scenario_controls, segment_runs


class Controls:
    def __init__(self, session: Session) -> None:
        self._session = session

    def paused(self) -> frozenset[str]:
        query = select(scenario_controls.c.scenario_id).where(scenario_controls.c.paused)
        return frozenset(self._session.execute(query).scalars())

    def set_paused(self, scenario_id: str, paused: bool, reason: str, now: datetime) -> None:
        values = {"scenario_id": scenario_id, "paused": paused, "updated_at": now, "reason": reason}
        statement = insert(scenario_controls).values(**values)
        self._session.execute(statement.on_conflict_do_update(index_elements=["scenario_id"], set_=values))

    def claim_run(self, scenario_id: str, slot: str, now: datetime, lease: timedelta) -> bool:
        """Take the run of `slot` (new, or left unfinished by a replica whose lease ran out); False when another
        replica has it or it is done."""
        statement = insert(segment_runs).values(scenario_id=scenario_id, slot=slot, lease_until=now + lease,
                                                entered=0, finished_at=None)
        claim = statement.on_conflict_do_update(
            index_elements=["scenario_id", "slot"], set_={"lease_until": now + lease},
            where=(segment_runs.c.finished_at.is_(None)) & (segment_runs.c.lease_until < now),
        ).returning(segment_runs.c.slot)
        return self._session.execute(claim).first() is not None

    def run_started(self, scenario_id: str, slot: str) -> bool:
        """Whether a run of `slot` was ever claimed (finished or not)."""
        query = select(segment_runs.c.slot).where(segment_runs.c.scenario_id == scenario_id,
                                                  segment_runs.c.slot == slot)
        return self._session.execute(query).first() is not None

    def release_run(self, scenario_id: str, slot: str, now: datetime) -> None:
        """Give up an unfinished run's lease: it may be taken again at once (its entries so far stay)."""
        self._session.execute(update(segment_runs).where(
            segment_runs.c.scenario_id == scenario_id, segment_runs.c.slot == slot,
            segment_runs.c.finished_at.is_(None)).values(lease_until=now - timedelta(microseconds=1)))

    def finish_run(self, scenario_id: str, slot: str, entered: int, now: datetime) -> None:
        self._session.execute(update(segment_runs).where(
            segment_runs.c.scenario_id == scenario_id, segment_runs.c.slot == slot,
            or_(segment_runs.c.finished_at.is_(None))).values(finished_at=now, entered=entered))
