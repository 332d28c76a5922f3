"""Would this person enter this scenario, and why (not)? The same answer for the engine and for `declic
scenarios dry-run`: the trigger's event condition, then targeting on the profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import cel

from declic.scenarios.conditions import Condition
from declic.scenarios.references import pruned, read_by
from declic.scenarios.schema import Scenario


def activation(event: dict[str, Any], profile: dict[str, Any], journey: dict[str, Any],
               now: datetime) -> dict[str, Any]:
    """The variables a condition sees."""
    return {"event": event, "profile": profile, "journey": journey, "now": now}


def trigger_matches(scenario: Scenario, event: dict[str, Any], now: datetime,
                    bound: cel.Context | None = None) -> tuple[bool, str]:
    """Whether `event` starts `scenario` (its type, then `trigger.when`, which sees the event only; `bound`:
    the event and now, bound once for all the scenarios an event is tried on)."""
    trigger = scenario.trigger
    if trigger.event != event.get("type"):
        return False, f"starts on {trigger.event or 'its schedule'}, not on {event.get('type')}"
    if trigger.when is None:
        return True, f"a {trigger.event} starts it"
    ok, why = trigger.when.holds(bound or activation(event, {}, {}, now))
    return ok, (f"trigger: {trigger.when.source}" if ok else f"trigger: {why}")


def business_key(scenario: Scenario, event: dict[str, Any], now: datetime, bound: cel.Context | None = None) -> str:
    """The entry's business key (cart id, order id…) from `trigger.key`; empty when there is none."""
    key = scenario.trigger.key
    if key is None:
        return ""
    text = key.text_at_path({"event": event})
    if text is not None:  # most keys name a field (`event.cart_change.cart_id`): read without CEL
        return text
    try:
        value = key.evaluate(bound or activation(pruned(event, read_by(key.source)[0]), {}, {}, now))
    except ValueError:
        return ""
    return str(value)


def eligible(scenario: Scenario, variables: dict[str, Any]) -> tuple[bool, list[str]]:
    """Targeting against the profile in `variables` (an activation): whether the person may enter, and each
    reason — what passed, or what failed."""
    targeting = scenario.targeting
    profile = variables.get("profile") or {}
    reasons: list[str] = []
    if not profile:
        return False, ["customer unknown to profile"]
    if targeting.contactable_on:
        reachable = [c for c in targeting.contactable_on if profile.get("contactability", {}).get(c)]
        if not reachable:
            return False, [f"not contactable on {' or '.join(targeting.contactable_on)}"]
        reasons.append(f"contactable on {', '.join(reachable)}")
    if targeting.lifecycle:
        stage = profile.get("lifecycle", "")
        if stage not in targeting.lifecycle:
            return False, [*reasons, f"lifecycle {stage!r} not in {', '.join(targeting.lifecycle)}"]
        reasons.append(f"lifecycle {stage}")
    if targeting.condition is not None:
        ok, why = targeting.condition.holds(variables)
        if not ok:
            return False, [*reasons, why]
        reasons.append(f"{targeting.condition.source} holds")
    return True, reasons or ["no targeting: everyone may enter"]


def personalise(scenario: Scenario, variables: dict[str, Any]) -> dict[str, str]:
    """The scenario's personalisation variables, as text (a variable that cannot be computed is left out)."""
    return computed(scenario.personalisation.variables, variables)


def computed(expressions: dict[str, Condition], variables: dict[str, Any]) -> dict[str, str]:
    """Each expression's value as text; one that cannot be computed (a missing field) is left out."""
    values: dict[str, str] = {}
    for name, expression in expressions.items():
        try:
            values[name] = _text(expression.evaluate(variables))
        except ValueError:
            continue
    return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
