"""What an event does to a customer's open journeys: interrupt them (at once, even in the middle of a wait),
record a goal, end a wait for that event, or note an engagement with the journey's messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from declic.scenarios.conditions import Condition
from declic.scenarios.entry import activation
from declic.scenarios.fields import EventMatch
from declic.scenarios.references import pruned, read_by, reads_now
from declic.scenarios.schema import Scenario, step_ids
from declic.scenarios.steps import EXIT
from services.scenario.domain.journeys import Journey, JourneyState

_REMEMBERED = 20_000
_outcomes: dict[tuple[str, str], bool] = {}
"""(condition, the part of the event it reads) → whether it holds, for conditions that read neither the journey nor
`now`: handing CEL even that part costs ~20 µs, and a stream repeats itself (forgotten all at once when full)."""


def matches(match: EventMatch, event: dict[str, Any], journey: Journey, now: datetime) -> bool:
    """The event is of the type, and `when` (which sees the event and the journey) holds."""
    if match.event != event.get("type"):
        return False
    if match.when is None:
        return True
    return _holds(match.when, event, journey, now)


def _holds(condition: Condition, event: dict[str, Any], journey: Journey, now: datetime) -> bool:
    """Whether `condition` holds, CEL seeing only the variables it reads."""
    fields, with_journey = read_by(condition.source)
    seen = pruned(event, fields)
    if with_journey or _reads_now(condition.source):
        return condition.holds(activation(seen, {}, journey.cel() if with_journey else {}, now))[0]
    remembered = (condition.source, repr(seen))
    outcome = _outcomes.get(remembered)
    if outcome is None:
        if len(_outcomes) >= _REMEMBERED:
            _outcomes.clear()
        outcome = _outcomes[remembered] = condition.holds(activation(seen, {}, {}, now))[0]
    return outcome


@cache
def _reads_now(source: str) -> bool:
    return reads_now([source])


def react(scenario: Scenario, journey: Journey, event: dict[str, Any], now: datetime) -> Journey | None:
    """The journey after `event`, or None when the event changes nothing for it (then it is not copied)."""
    if not journey.is_open:  # a goal still counts after the last message
        return _with_goal(journey, event, now) if _goal_reached(scenario, journey, event, now) else None
    reached = _goal_reached(scenario, journey, event, now)
    for match in scenario.interruption:
        if matches(match, event, journey, now):
            interrupted = _with_goal(journey, event, now) if reached else _copy(journey)
            interrupted.state, interrupted.due_at, interrupted.waiting_for = JourneyState.INTERRUPTED, None, ""
            interrupted.detail = f"interrupted by {event['type']} {event.get('id', '')}".rstrip()
            return interrupted
    changed = _with_goal(journey, event, now) if reached else None
    if event.get("type") == "message_engagement" and event["message_engagement"].get("scenario_id") == scenario.id:
        changed = changed or _copy(journey)
        engaged = list(changed.memory.get("engaged", []))
        engaged.append([event["message_engagement"]["kind"], (_event_time(event) or now).isoformat()])
        changed.memory["engaged"] = engaged
    if journey.state is JourneyState.WAITING and journey.waiting_for == event.get("type"):
        wait = scenario.steps[step_ids(scenario.steps).index(journey.step)].wait
        if wait is not None and wait.until_event is not None and matches(wait.until_event.event, event, journey, now):
            changed = changed or _copy(journey)
            target = wait.until_event.on_event
            if target == EXIT:
                changed.state, changed.due_at, changed.detail = JourneyState.EXITED, None, f"{event['type']} came"
            else:
                changed.state, changed.due_at = JourneyState.ACTIVE, now
                changed.detail = f"{event['type']} came"
                changed.memory["resume_at"] = target or ""
            changed.waiting_for = ""
    return changed


def _copy(journey: Journey) -> Journey:
    return replace(journey, memory=dict(journey.memory))


def _goal_reached(scenario: Scenario, journey: Journey, event: dict[str, Any], now: datetime) -> bool:
    goal = scenario.goal
    if goal is None or journey.goal_at is not None or goal.event != event.get("type"):
        return False
    return now - journey.entered_at <= goal.within and (goal.when is None or _holds(goal.when, event, journey, now))


def _with_goal(journey: Journey, event: dict[str, Any], now: datetime) -> Journey:
    changed = _copy(journey)
    changed.goal_at = now
    changed.memory["goal_event"] = event.get("id", "")
    return changed


def _event_time(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(event["time"]) if event.get("time") else None
    except ValueError:
        return None

