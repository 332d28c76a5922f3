"""Moving a journey forward: entry checks, then its steps until it waits, sends and waits, or ends.

Pure: the caller gives the scenario, the journey, the profile as conditions see it (or None when it was not
needed) and now; it gets the journey's new state and the firings to store, in one `Progress`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from declic.scenarios.schema import Scenario, step_ids
from declic.scenarios.steps import EXIT, Branch, Send, Wait
from services.scenario.domain.firings import Firing
from services.scenario.domain.journeys import Journey, JourneyState, in_holdout
from services.scenario.domain.outreach import firing_for
from services.scenario.domain.targeting import eligible, personalise
from services.scenario.domain.timing import after, local_date_at, next_local_time

MAX_STEPS_AT_ONCE = 50
"""A journey runs at most this many steps in one go (a branch looping on itself cannot spin forever)."""


@dataclass
class Progress:
    journey: Journey
    firings: list[Firing] = field(default_factory=list)


def needs_profile(scenario: Scenario, journey: Journey) -> bool:
    """Whether advancing now reads the profile: at entry (targeting, personalisation), or when a condition
    or a send's variables may read it. Plain waits and sends do without a call to profile."""
    if journey.state is JourneyState.SCHEDULED:
        return True
    return any(
        (s.branch and s.branch.condition) or (s.send and s.send.variables) or (s.wait and s.wait.until_date)
        for s in scenario.steps
    )


def advance(scenario: Scenario, journey: Journey, profile: dict[str, Any] | None, now: datetime) -> Progress:
    """Run the journey from where it stands; stop at a wait, or at its end."""
    journey = replace(journey, variables=dict(journey.variables), memory=dict(journey.memory))
    progress = Progress(journey)
    ids = step_ids(scenario.steps)
    if journey.state is JourneyState.SCHEDULED:
        if not _enter(scenario, journey, profile or {}, now):
            return progress
        journey.step = ids[0]
    elif "resume_at" in journey.memory:  # the event a wait expected came
        resume_at = journey.memory.pop("resume_at")
        journey.step = resume_at or _next(ids, journey.step)
    elif journey.state is JourneyState.WAITING:
        wait = scenario.steps[ids.index(journey.step)].wait
        until_event = wait.until_event if wait is not None else None
        target = until_event.on_timeout if until_event is not None else None
        journey.waiting_for = ""
        if until_event is not None and target == EXIT:
            return _end(progress, JourneyState.EXITED, f"no {until_event.event.event} in time", now)
        journey.step = target or _next(ids, journey.step)
    activation = {"event": journey.entry_event(), "profile": profile or {}, "journey": journey.cel(),
                  "now": now}
    for _ in range(MAX_STEPS_AT_ONCE):
        if not journey.step:
            return _end(progress, JourneyState.COMPLETED, "all steps done", now)
        step = scenario.steps[ids.index(journey.step)]
        action = step.action
        if isinstance(action, Send):
            progress.firings.append(firing_for(scenario, action, journey, activation, now))
            journey.memory.setdefault("sent", {})[action.id] = now.isoformat()
            journey.step = _next(ids, journey.step)
        elif isinstance(action, Wait):
            return _wait(progress, action, now, activation)
        elif isinstance(action, Branch):
            taken, why = _branch(action, journey, activation, now)
            target = action.then if taken else action.otherwise
            if target == EXIT:
                return _end(progress, JourneyState.EXITED, why, now)
            journey.step = target
        else:
            return _end(progress, JourneyState.EXITED, action.reason, now)  # type: ignore[union-attr]
        activation["journey"] = journey.cel()
    return _end(progress, JourneyState.EXITED, f"more than {MAX_STEPS_AT_ONCE} steps without a wait", now)


def _enter(scenario: Scenario, journey: Journey, profile: dict[str, Any], now: datetime) -> bool:
    ok, why = eligible(scenario, journey, profile, now)
    if not ok:
        journey.state, journey.detail, journey.due_at = JourneyState.NOT_ELIGIBLE, why, None
        return False
    if in_holdout(journey.journey_id, scenario.holdout):
        journey.state, journey.due_at = JourneyState.HELD_OUT, None
        journey.detail = f"control group ({scenario.holdout} % held out): not contacted"
        return False
    journey.variables.update(personalise(scenario, journey, profile, now))
    journey.memory["timezone"] = profile.get("timezone", "UTC")
    journey.state, journey.detail = JourneyState.ACTIVE, "started"
    return True


def _next(ids: list[str], step: str) -> str:
    index = ids.index(step) + 1
    return ids[index] if index < len(ids) else ""


def _wait(progress: Progress, wait: Wait, now: datetime, activation: dict[str, Any]) -> Progress:
    journey = progress.journey
    timezone = journey.memory.get("timezone", "UTC")
    if wait.duration is not None:
        due, why = after(now, wait.duration, timezone), "waiting"
    elif wait.until_local_time is not None:
        due, why = next_local_time(now, wait.until_local_time, timezone), "waiting for the local time"
    elif wait.until_event is not None:
        due = after(now, wait.until_event.timeout, timezone)
        journey.waiting_for = wait.until_event.event.event
        why = f"waiting for {journey.waiting_for}"
    else:
        assert wait.until_date is not None
        try:
            day = date.fromisoformat(str(wait.until_date.date.evaluate(activation))[:10])
        except ValueError as exc:
            return _end(progress, JourneyState.EXITED, f"no date to wait for: {exc}", now)
        due, why = local_date_at(day, wait.until_date.offset, wait.until_date.at, timezone), "waiting for the date"
    journey.state, journey.due_at, journey.detail = JourneyState.WAITING, due, f"{why} until {due.isoformat()}"
    return progress


def _branch(branch: Branch, journey: Journey, activation: dict[str, Any], now: datetime) -> tuple[bool, str]:
    if branch.condition is not None:
        taken, why = branch.condition.holds(activation)
        return taken, why or f"{branch.condition.source} is true"
    if branch.percent is not None:
        taken = int(journey.journey_id[8:16], 16) % 100 < branch.percent
        return taken, f"random split: {'A' if taken else 'B'} ({branch.percent} % to A)"
    assert branch.engaged is not None
    sent_at = journey.memory.get("sent", {}).get(branch.engaged.step)
    if sent_at is None:
        return False, f"{branch.engaged.step} was not sent"
    sent = datetime.fromisoformat(sent_at)
    for kind, at in journey.memory.get("engaged", []):
        if kind == branch.engaged.kind and sent <= datetime.fromisoformat(at) <= sent + branch.engaged.within:
            return True, f"{branch.engaged.step} {kind}"
    return False, f"{branch.engaged.step} not {branch.engaged.kind}"


def _end(progress: Progress, state: JourneyState, why: str, now: datetime) -> Progress:
    progress.journey.state, progress.journey.detail, progress.journey.due_at = state, why, None
    progress.journey.waiting_for = ""
    return progress
