"""Which scenarios an event may start, and whether it may matter to journeys already under way.

Built once per catalogue: matching an event is a dictionary look-up by its type, then the trigger's own
condition on the event alone (no profile: targeting is checked when the journey starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from declic.scenarios.conditions import bind
from declic.scenarios.entry import activation, business_key, trigger_matches
from declic.scenarios.schema import Scenario


@dataclass(frozen=True)
class Entry:
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
        self.periodic = sorted(s.id for s in self.scenarios.values() if s.re_entry.period is not None)
        """Scenarios entered once per period: their last entry is checked."""
        for scenario in self.scenarios.values():
            if scenario.trigger.event:
                self._by_event.setdefault(scenario.trigger.event, []).append(scenario)
            self._reacting |= _steered_by(scenario)

    def entries(self, event: dict[str, Any], now: datetime, paused: frozenset[str] = frozenset()) -> list[Entry]:
        """The active scenarios this event starts, each with its business key."""
        candidates = self._by_event.get(event.get("type", ""), ())
        if not candidates:
            return []
        bound = bind(activation(event, {}, {}, now))
        found = []
        for scenario in candidates:
            if scenario.active and scenario.id not in paused and trigger_matches(scenario, event, now, bound)[0]:
                found.append(Entry(scenario, business_key(scenario, event, now, bound)))
        return found

    def reacting_scenarios(self, event_types: set[str]) -> list[str]:
        """The scenarios whose journeys events of these types may steer (any, for an engagement)."""
        if "message_engagement" in event_types:
            return sorted(self.scenarios)
        return sorted(s.id for s in self.scenarios.values() if event_types & _steered_by(s))

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
