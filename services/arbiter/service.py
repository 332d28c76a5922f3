"""Arbiter's service layer: one decision per firing, atomic against the pressure cap."""

from __future__ import annotations

from datetime import datetime

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from services.arbiter.domain.decisions import Decision, FiringRequest, Verdict, apply_cap, decide, needs_slot
from services.arbiter.domain.pressure import PressurePolicy
from services.arbiter.storage.counters import PressureCounters
from services.arbiter.storage.decisions import DecisionRepository


class ArbiterService:
    def __init__(self, uow: UnitOfWork, pressure: PressureCounters, clock: Clock, policy: PressurePolicy) -> None:
        self._uow = uow
        self._pressure = pressure
        self._clock = clock
        self._policy = policy

    def decide(self, request: FiringRequest) -> Decision:
        """The decision for this firing; asked again, the first decision is returned unchanged."""
        with self._uow.begin() as session:
            existing = DecisionRepository(session).get(request.firing_id)
        if existing is not None:
            return existing
        now = self._clock.now()
        decision = decide(request, self._policy, now)
        if needs_slot(decision, request):
            taken = self._pressure.reserve(request.customer_id, request.firing_id, now, self._policy.window)
            decision = apply_cap(decision, taken, self._policy)
            if decision.verdict is not Verdict.ALLOW:
                self._pressure.release(request.customer_id, request.firing_id)
        with self._uow.begin() as session:
            repository = DecisionRepository(session)
            repository.add_once(decision)
            stored = repository.get(request.firing_id)
            session.commit()
        assert stored is not None
        return stored

    def history(self, customer_id: str, limit: int, after: tuple[datetime, str] | None = None) -> list[Decision]:
        """`limit` of the person's decisions, newest first, after the (decided_at, firing_id) `after`."""
        with self._uow.begin() as session:
            return DecisionRepository(session).history(customer_id, limit, after)
