"""The journey engine's service layer: events enter and steer journeys (inside the hand-off transaction), and
due journeys move forward (claimed under a lease, saved only if nobody changed them meanwhile).

What to do is the domain's (`matching`, `reactions`, `progress`); this module fetches, calls it, and stores.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.scenarios.schema import Scenario
from services.scenario.domain.delivery import PeerFailed, retry_delay
from services.scenario.domain.firings import FiringState, Settlement, firing_id_for
from services.scenario.domain.journeys import Journey, JourneyState, entry_key_for, new_journey
from services.scenario.domain.matching import Matcher
from services.scenario.domain.progress import Progress, advance, needs_profile
from services.scenario.domain.reactions import GOAL_HORIZON, react
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

    def on_event(self, session: Session, event: dict[str, Any], customer_id: str, now: datetime,
                 trace: dict[str, str] | None = None) -> int:
        """Apply an accepted event: steer the customer's journeys, then enter the scenarios it starts. How many
        journeys it entered."""
        journeys = JourneyRepository(session)
        if self.matcher.reacts_to(event.get("type", "")):
            for journey in journeys.of_customer(customer_id, since=now - GOAL_HORIZON, lock=True):
                scenario = self.scenario(journey.scenario_id)
                changed = react(scenario, journey, event, now) if scenario else None
                saved = changed is not None and journeys.save(changed, now)
                if saved and scenario and changed and changed.state is JourneyState.INTERRUPTED:
                    cancel_sends(session, scenario, changed)
        entries = self.matcher.entries(event, now, self.paused(session))
        entered = 0
        for entry in entries:
            key = entry_key_for(entry.scenario, entry.business_key, now, event.get("id", ""))
            if not self._may_reenter(journeys, entry.scenario, customer_id, now):
                continue
            journey = new_journey(entry.scenario, customer_id, key, now, event, event.get("id", ""))
            if trace:
                journey.memory["trace"] = trace
            entered += journeys.enter(journey)
        return entered

    def _may_reenter(self, journeys: JourneyRepository, scenario: Scenario, customer_id: str, now: datetime) -> bool:
        period = scenario.re_entry.period
        if period is None:
            return True
        last = journeys.last_entered(scenario.id, customer_id)
        return last is None or now - last >= period

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
            journeys, firings = JourneyRepository(session), FiringRepository(session)
            for progressed in results:
                if journeys.save(progressed.journey, now):
                    for firing in progressed.firings:
                        firing.trace_context = progressed.journey.memory.get("trace", {})
                        firings.add_once(firing)
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


def cancel_sends(session: Session, scenario: Scenario, journey: Journey) -> None:
    """An interrupted journey's messages not sent yet are not sent."""
    ids = [firing_id_for(scenario.id, step, journey.customer_id, journey.entry_key)
           for step in journey.memory.get("sent", {})]
    FiringRepository(session).settle_open(ids, Settlement(FiringState.SUPPRESSED, journey.detail))
