"""Journeys: one customer's way through one scenario, from entry to exit, and how entries are keyed.

A journey's id is deterministic — (scenario, customer, entry key) — and so is each of its firings' ids
(scenario, step, customer, entry key): a redelivered event, a restart or a second replica finds the row
already there instead of entering or sending twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from declic.scenarios.facts import compact_event, full_event
from declic.scenarios.keys import entry_key_for, in_holdout, journey_id_for
from declic.scenarios.schema import Scenario

__all__ = ["Journey", "JourneyState", "OPEN", "entry_key_for", "in_holdout", "journey_id_for", "new_journey"]


class JourneyState(Enum):
    SCHEDULED = "scheduled"
    """Entered; the entry delay runs, then targeting is checked with the profile."""
    ACTIVE = "active"
    """Due to run its next step."""
    WAITING = "waiting"
    """In a wait (a duration, a local time, a date, or an event with a timeout)."""
    COMPLETED = "completed"
    EXITED = "exited"
    INTERRUPTED = "interrupted"
    NOT_ELIGIBLE = "not_eligible"
    HELD_OUT = "held_out"
    """In the control group: never contacted, measured against the others."""


OPEN = frozenset({JourneyState.SCHEDULED, JourneyState.ACTIVE, JourneyState.WAITING})


@dataclass
class Journey:
    journey_id: str
    scenario_id: str
    customer_id: str
    entry_key: str
    state: JourneyState
    entered_at: datetime
    due_at: datetime | None
    cause_event_id: str = ""
    step: str = ""
    """The step the journey is at (a wait it is in, the step it runs next); empty before the first."""
    detail: str = ""
    """Why it is where it is, in words."""
    waiting_for: str = ""
    """The event type a wait until an event expects."""
    occurrences: int = 1
    """How many times the trigger matched for this entry (products viewed three times…)."""
    goal_at: datetime | None = None
    variables: dict[str, str] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    """The entry event, the time each step sent, the engagements seen, the customer's zone."""
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    def entry_event(self) -> dict[str, Any]:
        """The event that started the journey, as conditions see it."""
        return full_event(self.memory.get("event", {}))

    def cel(self) -> dict[str, Any]:
        """The journey as conditions see it."""
        return {"state": self.state.value, "step": self.step, "entry_key": self.entry_key,
                "occurrences": self.occurrences, "entered_at": self.entered_at, "variables": dict(self.variables)}


def new_journey(scenario: Scenario, customer_id: str, entry_key: str, now: datetime,
                event: dict[str, Any] | None = None, cause_event_id: str = "",
                kept: dict[str, Any] | None = None, journey_id: str = "") -> Journey:
    """A journey entered now; it starts after the trigger's delay (targeting is checked then). `kept`: the event
    compacted already (`compact_event`), when it enters several journeys; `journey_id`: `journey_id_for` its
    scenario, customer and key, when the caller has it already."""
    delay = scenario.trigger.delay
    due = now + delay
    return Journey(
        journey_id=journey_id or journey_id_for(scenario.id, customer_id, entry_key), scenario_id=scenario.id,
        customer_id=customer_id, entry_key=entry_key, state=JourneyState.SCHEDULED, entered_at=now,
        due_at=due, cause_event_id=cause_event_id, detail=_entered(due, due.tzinfo) if delay else "entered",
        memory={"event": kept if kept is not None else compact_event(event or {})},
    )


@lru_cache(maxsize=64)
def _entered(due: datetime, zone: Any) -> str:
    """(`zone` too: equal instants in two zones are written differently.)"""
    return f"entered; starts at {due.isoformat()}"
