"""The journey engine's service layer: events enter and steer journeys (inside the hand-off transaction), and
due journeys move forward (claimed under a lease, saved only if nobody changed them meanwhile).

What to do is the domain's (`matching`, `reactions`, `progress`); this module fetches, calls it, and stores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.scenarios.schema import Scenario
from services.scenario.domain.delivery import PeerFailed, retry_delay
from services.scenario.domain.journeys import Journey, JourneyState
from services.scenario.domain.matching import Matcher
from services.scenario.domain.progress import Progress, advance, needs_profile
from services.scenario.steering import AcceptedFacts, MetJourneys, apply_events
from services.scenario.storage.controls import Controls
from services.scenario.storage.firings import FiringRepository
from services.scenario.storage.journeys import JourneyRepository

log = logging.getLogger("declic.scenario.journeys")

LEASE = timedelta(seconds=30)
"""How long a claimed journey stays hidden from other replicas' workers."""
PAUSED_RECHECK = timedelta(minutes=5)
PROFILE_WAITS = 20
"""A journey whose customer profile does not know yet is retried this many times (profile may lag behind)."""


class ProfilePeer(Protocol):
    def profile_facts(self, customer_id: str, now: datetime) -> dict[str, Any] | None: ...


class JourneyEngine:
    def __init__(self, uow: UnitOfWork, clock: Clock, matcher: Matcher, profiles: ProfilePeer) -> None:
        self._uow = uow
        self._clock = clock
        self.matcher = matcher
        self._profiles = profiles
        self._paused: tuple[float, frozenset[str]] = (float("-inf"), frozenset())
        self._met = MetJourneys()

    def scenario(self, scenario_id: str) -> Scenario | None:
        return self.matcher.scenarios.get(scenario_id)

    def paused(self, session: Session) -> frozenset[str]:
        """Paused scenarios, re-read at most once a second (a pause reaches every replica within a second)."""
        read_at, paused = self._paused
        if time.monotonic() - read_at > 1.0:
            paused = Controls(session).paused()
            self._paused = (time.monotonic(), paused)
        return paused

    def session(self):  # noqa: ANN201 - the unit of work's context manager
        """A transaction of the engine's unit of work (for the workers' reads)."""
        return self._uow.begin()

    def forget_paused(self) -> None:
        self._paused = (float("-inf"), frozenset())

    def on_events(self, session: Session, items: Sequence[AcceptedFacts], now: datetime) -> int:
        """Apply accepted events in order: steer the customers' journeys (interrupt, convert, resume, note an
        engagement), then enter the scenarios they start. How many journeys they entered."""
        return apply_events(session, self.matcher, items, now, self.paused(session), self._met)

    def advance_due(self, limit: int = 200) -> int:
        """Move up to `limit` due journeys forward; return how many were due. Their firings are stored in the
        same transaction as their new state, and only if nobody changed the journey meanwhile."""
        now = self._clock.now()
        with self._uow.begin() as session:
            due = JourneyRepository(session).claim_due(now, LEASE, limit)
            paused = self.paused(session)
            session.commit()
        if not due:
            return 0
        results = [self._advance(journey, paused, now) for journey in due]
        with self._uow.begin() as session:
            saved = JourneyRepository(session).save_many([p.journey for p in results], now)
            firings = []
            for progressed in results:
                if progressed.journey.journey_id in saved:  # not changed meanwhile (an interruption wins)
                    for firing in progressed.firings:
                        firing.trace_context = progressed.journey.memory.get("trace", {})
                        firings.append(firing)
            FiringRepository(session).add_many(firings)
            session.commit()
        return len(due)

    def _advance(self, journey: Journey, paused: frozenset[str], now: datetime) -> Progress:
        scenario = self.scenario(journey.scenario_id)
        if scenario is None:
            journey.state, journey.due_at, journey.detail = JourneyState.EXITED, None, "scenario no longer exists"
            return Progress(journey)
        if journey.scenario_id in paused:
            journey.due_at, journey.detail = now + PAUSED_RECHECK, "scenario paused"
            return Progress(journey)
        profile = None
        if needs_profile(scenario, journey):
            try:
                profile = self._profiles.profile_facts(journey.customer_id, now)
            except PeerFailed as failure:
                waits = journey.memory.get("retries", 0)
                journey.memory["retries"] = waits + 1
                journey.due_at, journey.detail = now + retry_delay(waits), failure.detail
                return Progress(journey)
            if profile is None and journey.state is JourneyState.SCHEDULED:
                waits = journey.memory.get("profile_waits", 0)
                if waits < PROFILE_WAITS:
                    journey.memory["profile_waits"] = waits + 1
                    journey.due_at, journey.detail = now + retry_delay(min(waits, 4)), "waiting for the profile"
                    return Progress(journey)
        return advance(scenario, journey, profile, now)

