"""Which scenarios an event may start, and whether it may matter to journeys already under way.

Built once per catalogue: matching an event is a dictionary look-up by its type, then the trigger's own
condition on the event alone (no profile: targeting is checked when the journey starts). CEL sees only the part of
the event the type's conditions read, and which scenarios the same part (the same page, the same action) starts
is remembered: a stream repeats itself, and a condition's value depends on nothing else (except `now`: then it is
evaluated every time). The business key (a cart's, an order's id: new at nearly every event) is not part of what
is remembered; a key that names a field is read without CEL (`entry.business_key`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from declic.scenarios.conditions import bind
from declic.scenarios.entry import activation, business_key, trigger_matches
from declic.scenarios.references import Fields, event_fields, pruned, reads_now
from declic.scenarios.schema import Scenario

_REMEMBERED = 20_000
"""Outcomes remembered (then forgotten all at once): a few MB at most."""


class Entry(NamedTuple):
    """A scenario an event starts, and the entry's business key. (A tuple: made for most events, and a frozen
    dataclass costs several times as much to make.)"""

    scenario: Scenario
    business_key: str


class Matcher:
    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        self.scenarios = {s.id: s for s in scenarios}
        self._by_event: dict[str, list[Scenario]] = {}
        self._reacting: set[str] = {"message_engagement"}
        self.goal_events = {s.goal.event for s in self.scenarios.values() if s.goal}
        """Event types that may reach a goal (of ended journeys too)."""
        self.longest_goal = max((s.goal.within for s in self.scenarios.values() if s.goal), default=timedelta(0))
        self.once_per = {s.id: s.re_entry.period for s in self.scenarios.values() if s.re_entry.period is not None}
        """Scenarios entered once per period, and their period: their last entry is checked."""
        for scenario in self.scenarios.values():
            if scenario.trigger.event and scenario.active:
                self._by_event.setdefault(scenario.trigger.event, []).append(scenario)
            self._reacting |= _steered_by(scenario)
        self._reads: dict[str, tuple[Fields, bool]] = {}
        """Event type → what of the event its triggers' conditions read, and whether they read `now`."""
        for event_type, candidates in self._by_event.items():
            sources = [s.trigger.when.source for s in candidates if s.trigger.when is not None]
            self._reads[event_type] = (event_fields(sources), reads_now(sources))
        self._outcomes: dict[tuple[str, str], tuple[Scenario, ...]] = {}
        self._steered: dict[str, tuple[str, ...]] = {}
        self._steered_sets: dict[str, frozenset[str]] = {}

    def entries(self, event: dict[str, Any], now: datetime, paused: frozenset[str] = frozenset()) -> list[Entry]:
        """The active scenarios this event starts, each with its business key."""
        event_type = event.get("type", "")
        candidates = self._by_event.get(event_type, ())
        if not candidates:
            return []
        fields, with_now = self._reads[event_type]
        seen = pruned(event, fields)
        remembered = None if with_now else (event_type, repr(seen))
        started = self._outcomes.get(remembered) if remembered else None
        if started is None:
            started = self._started(candidates, seen, now)
            if remembered:
                if len(self._outcomes) >= _REMEMBERED:
                    self._outcomes.clear()
                self._outcomes[remembered] = started
        return [Entry(scenario, business_key(scenario, event, now)) for scenario in started
                if scenario.id not in paused]

    def reads(self, event_type: str) -> tuple[Fields, bool] | None:
        """What of an event of this type its triggers' conditions read, and whether they read `now`; None when no
        active scenario starts on it."""
        return self._reads.get(event_type)

    def starts_any(self, event: dict[str, Any], now: datetime) -> bool:
        """Whether the event would start some scenario (paused or not)."""
        return bool(self.entries(event, now))

    @staticmethod
    def _started(candidates: Iterable[Scenario], event: dict[str, Any], now: datetime) -> tuple[Scenario, ...]:
        bound = bind(activation(event, {}, {}, now))
        return tuple(scenario for scenario in candidates if trigger_matches(scenario, event, now, bound)[0])

    def reacting_scenarios(self, event_types: set[str]) -> list[str]:
        """The scenarios whose journeys events of these types may steer (any, for an engagement)."""
        if "message_engagement" in event_types:
            return sorted(self.scenarios)
        return sorted(s.id for s in self.scenarios.values() if event_types & _steered_by(s))

    def steered_scenarios(self, event_type: str) -> tuple[str, ...]:
        """The scenarios whose journeys an event of this type may steer (none for most types)."""
        found = self._steered.get(event_type)
        if found is None:
            found = tuple(self.reacting_scenarios({event_type})) if self.reacts_to(event_type) else ()
            self._steered[event_type] = found
        return found

    def steered_set(self, event_type: str) -> frozenset[str]:
        """`steered_scenarios`, as a set."""
        found = self._steered_sets.get(event_type)
        if found is None:
            found = self._steered_sets[event_type] = frozenset(self.steered_scenarios(event_type))
        return found

    def reacts_to(self, event_type: str) -> bool:
        """Whether events of this type may interrupt, convert, resume or engage a journey."""
        return event_type in self._reacting


def _steered_by(scenario: Scenario) -> set[str]:
    """The event types that interrupt, convert or resume the scenario's journeys."""
    types: set[str] = {match.event for match in scenario.interruption}
    if scenario.goal:
        types.add(scenario.goal.event)
    types.update(step.wait.until_event.event.event for step in scenario.steps if step.wait and step.wait.until_event)
    return types
