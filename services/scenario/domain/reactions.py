"""What an event does to a customer's open journeys: interrupt them (at once, even in the middle of a wait),
record a goal, end a wait for that event, or note an engagement with the journey's messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from declic.scenarios.conditions import Condition
from declic.scenarios.entry import activation
from declic.scenarios.fields import EventMatch
from declic.scenarios.references import pruned, read_by
from declic.scenarios.schema import Scenario, step_ids
from declic.scenarios.steps import EXIT
from services.scenario.domain.journeys import Journey, JourneyState


def matches(match: EventMatch, event: dict[str, Any], journey: Journey, now: datetime) -> bool:
    """The event is of the type, and `when` (which sees the event and the journey) holds."""
    if match.event != event.get("type"):
        return False
    if match.when is None:
        return True
    return match.when.holds(_seen(match.when, event, journey, now))[0]


def _seen(condition: Condition, event: dict[str, Any], journey: Journey, now: datetime) -> dict[str, Any]:
    """The variables `condition` reads (handing CEL the whole event and journey costs ~90 µs a time)."""
    fields, with_journey = read_by(condition.source)
    return activation(pruned(event, fields), {}, journey.cel() if with_journey else {}, now)


def react(scenario: Scenario, journey: Journey, event: dict[str, Any], now: datetime) -> Journey | None:
    """The journey after `event`, or None when the event changes nothing for it."""
    changed = replace(journey, memory=dict(journey.memory))
    if not journey.is_open:  # a goal still counts after the last message
        return changed if _goal(scenario, changed, event, now) else None
    touched = False
    for match in scenario.interruption:
        if matches(match, event, journey, now):
            changed.state, changed.due_at, changed.waiting_for = JourneyState.INTERRUPTED, None, ""
            changed.detail = f"interrupted by {event['type']} {event.get('id', '')}".rstrip()
            _goal(scenario, changed, event, now)
            return changed
    touched |= _goal(scenario, changed, event, now)
    if event.get("type") == "message_engagement" and event["message_engagement"].get("scenario_id") == scenario.id:
        engaged = list(changed.memory.get("engaged", []))
        engaged.append([event["message_engagement"]["kind"], (_event_time(event) or now).isoformat()])
        changed.memory["engaged"] = engaged
        touched = True
    if journey.state is JourneyState.WAITING and journey.waiting_for == event.get("type"):
        wait = scenario.steps[step_ids(scenario.steps).index(journey.step)].wait
        if wait is not None and wait.until_event is not None and matches(wait.until_event.event, event, journey, now):
            target = wait.until_event.on_event
            if target == EXIT:
                changed.state, changed.due_at, changed.detail = JourneyState.EXITED, None, f"{event['type']} came"
            else:
                changed.state, changed.due_at = JourneyState.ACTIVE, now
                changed.detail = f"{event['type']} came"
                changed.memory["resume_at"] = target or ""
            changed.waiting_for = ""
            touched = True
    return changed if touched else None


def _goal(scenario: Scenario, journey: Journey, event: dict[str, Any], now: datetime) -> bool:
    goal = scenario.goal
    if goal is None or journey.goal_at is not None or goal.event != event.get("type"):
        return False
    if now - journey.entered_at > goal.within or (goal.when and not goal.when.holds(
            _seen(goal.when, event, journey, now))[0]):
        return False
    journey.goal_at = now
    journey.memory["goal_event"] = event.get("id", "")
    return True


def _event_time(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(event["time"]) if event.get("time") else None
    except ValueError:
        return None

