"""Arbiter's reads and lists for people: pressure counters, may-we-contact (call centers), exclusion lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from services.arbiter.domain.availability import Availability, availability
from services.arbiter.domain.control_groups import in_global_control_group
from services.arbiter.domain.decisions import FiringRequest
from services.arbiter.domain.policy import Policy
from services.arbiter.domain.pressure import Limit, cap_limits, limits_for
from services.arbiter.domain.screening import CoolOffFact, ExclusionFact, PersonFacts, Plan, screen
from services.arbiter.outages import guarded, rebuild
from services.arbiter.policy_file import PolicySource
from services.arbiter.storage.counters import PressureCounters, RebuildNeeded
from services.arbiter.storage.people import PeopleRepository


@dataclass(frozen=True)
class Pressure:
    customer_id: str
    counters: tuple[tuple[Limit, int], ...]
    facts: PersonFacts
    policy_version: str
    global_control_group: bool


class PeopleService:
    def __init__(self, uow: UnitOfWork, pressure: PressureCounters, clock: Clock, policy: PolicySource) -> None:
        self._uow = uow
        self._counters = pressure
        self._clock = clock
        self._policy = policy

    def _facts(self, customer_id: str, now: datetime) -> PersonFacts:
        def read() -> PersonFacts:
            with self._uow.begin() as session:
                return PeopleRepository(session).facts([customer_id], now).get(customer_id, PersonFacts())

        return guarded(read, "PostgreSQL")

    def _counts(self, customer_id: str, limits: tuple[Limit, ...], policy: Policy, now: datetime) -> tuple[int, ...]:
        keep = policy.longest_window()
        for _ in range(2):
            try:
                return guarded(lambda: self._counters.counts(customer_id, now, limits, keep), "Redis")
            except RebuildNeeded:
                rebuild(self._uow, self._counters, [customer_id], now - keep, keep)
        raise AssertionError("the counters were rebuilt twice in a row")

    def pressure(self, customer_id: str, timezone: str) -> Pressure:
        """Every cap's count for the person, with their lists and cool-offs in force."""
        policy, now = self._policy.current(), self._clock.now()
        limits = cap_limits(policy, now, ZoneInfo(timezone or policy.timezone))
        counts = self._counts(customer_id, limits, policy, now)
        return Pressure(customer_id, tuple(zip(limits, counts, strict=True)), self._facts(customer_id, now),
                        policy.version, in_global_control_group(customer_id, policy.control_group.global_percent))

    def can_contact(self, request: FiringRequest) -> tuple[Availability, str]:
        """Whether a marketing message could reach the person now (nothing reserved); and the policy version."""
        policy, now = self._policy.current(), self._clock.now()
        screened = screen(request, self._facts(request.customer_id, now), policy, now)
        counted = []
        if isinstance(screened, Plan):
            for channel in screened.channels:
                limits = limits_for(policy, channel, screened.category, "", now, screened.zone)
                counted.append((channel, limits, self._counts(request.customer_id, limits, policy, now)))
        return availability(screened, counted), policy.version

    def exclude(self, customer_id: str, list_name: str, reason: str, source: str,
                expires_at: datetime | None) -> datetime:
        """Set the person aside on `list_name`; the instant it was recorded."""
        now = self._clock.now()

        def write() -> None:
            with self._uow.begin() as session:
                PeopleRepository(session).exclude(customer_id, list_name, reason, source, expires_at, now)
                session.commit()

        guarded(write, "PostgreSQL")
        return now

    def unexclude(self, customer_id: str, list_name: str) -> bool:
        def write() -> bool:
            with self._uow.begin() as session:
                removed = PeopleRepository(session).unexclude(customer_id, list_name)
                session.commit()
                return removed

        return guarded(write, "PostgreSQL")

    def exclusions(self, customer_id: str, list_name: str, limit: int,
                   after: tuple[str, str] | None) -> list[tuple[str, ExclusionFact, datetime]]:
        def read() -> list[tuple[str, ExclusionFact, datetime]]:
            with self._uow.begin() as session:
                return PeopleRepository(session).list_exclusions(customer_id, list_name, limit, after)

        return guarded(read, "PostgreSQL")


__all__ = ["CoolOffFact", "PeopleService", "Pressure"]
