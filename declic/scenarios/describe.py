"""A scenario in words, for `declic scenarios show` and the API: its trigger, re-entry rule and steps."""

from __future__ import annotations

from declic.scenarios.durations import describe
from declic.scenarios.schema import Scenario, step_ids
from declic.scenarios.steps import Step


def describe_trigger(scenario: Scenario) -> str:
    trigger = scenario.trigger
    if trigger.event:
        text = f"on {trigger.event}" + (f" when {trigger.when.source}" if trigger.when else "")
        if trigger.key is not None:
            text += f", keyed on {trigger.key.source}"
        return text + (f", {describe(trigger.delay)} later" if trigger.delay else ", at once")
    if trigger.segment is not None:
        kind = next(k for k in ("birthday_today", "last_order_containing", "repurchase_overdue", "everyone")
                    if getattr(trigger.segment, k) not in (None, False))
        return f"every {trigger.every}: segment {kind}"
    if trigger.campaign is not None:
        return f"campaign: segment, {trigger.campaign.pace_per_second} messages/s"
    return "entered by hand"


def describe_re_entry(scenario: Scenario) -> str:
    rule = scenario.re_entry
    if rule.rule == "once_per_period" and rule.period is not None:
        return f"once per {describe(rule.period)}"
    return {"once": "once ever", "once_per_key": "once per business key", "always": "every time"}[rule.rule]


def describe_steps(scenario: Scenario) -> list[str]:
    return [f"{step_id}: {describe_step(step)}" for step_id, step in zip(step_ids(scenario.steps), scenario.steps,
                                                                         strict=True)]


def describe_step(step: Step) -> str:
    if step.send:
        return f"send {step.send.template} by {' or '.join(step.send.channels)}"
    if step.wait:
        wait = step.wait
        if wait.duration is not None:
            return f"wait {describe(wait.duration)}"
        if wait.until_local_time is not None:
            return f"wait until {wait.until_local_time:%H:%M} local time"
        if wait.until_event is not None:
            return f"wait for {wait.until_event.event.event} at most {describe(wait.until_event.timeout)}"
        assert wait.until_date is not None
        until = wait.until_date
        return f"wait until {until.date.source} {describe(until.offset)} at {until.at:%H:%M}"
    if step.branch:
        branch = step.branch
        if branch.condition is not None:
            test = branch.condition.source
        elif branch.engaged is not None:
            test = f"{branch.engaged.step} {branch.engaged.kind} within {describe(branch.engaged.within)}"
        else:
            test = f"random {branch.percent} %"
        return f"if {test} then {branch.then} else {branch.otherwise}"
    assert step.exit is not None
    return f"exit ({step.exit.reason})"
