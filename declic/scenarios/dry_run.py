"""Would this person enter this scenario now, and why (not)? `declic scenarios dry-run` asks; the engine's own
rules answer (trigger, re-entry, targeting, holdout), on the profile and the journeys the services report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from declic.scenarios.entry import activation, business_key, eligible, personalise, trigger_matches
from declic.scenarios.keys import entry_key_for, in_holdout, journey_id_for
from declic.scenarios.samples import SAMPLE_EVENT
from declic.scenarios.schema import Scenario


@dataclass(frozen=True)
class PastEntry:
    """A journey the customer already has in the scenario."""

    entry_key: str
    state: str
    entered_at: datetime


@dataclass(frozen=True)
class Verdict:
    enters: bool
    reasons: list[str]
    variables: dict[str, str]


def example_event(scenario: Scenario) -> dict[str, Any]:
    """The scenario's example event (its fields over defaults), or a bare one of its trigger's type."""
    given = scenario.example.event if scenario.example else {}
    kind = given.get("type", scenario.trigger.event or "")
    event: dict[str, Any] = {"type": kind, "id": "dry-run", "source": "dry-run", "time": "",
                             "context": given.get("context", {})}
    if kind in SAMPLE_EVENT:
        event[kind] = {**SAMPLE_EVENT[kind], **given.get(kind, {})}
    return event


def dry_run(scenario: Scenario, profile: dict[str, Any] | None, event: dict[str, Any] | None,
            past: list[PastEntry], now: datetime, customer_id: str = "") -> Verdict:
    """Whether the customer would enter now, each reason, and the variables the journey would carry."""
    reasons: list[str] = []
    if not scenario.active:
        return Verdict(False, ["the scenario is inactive (active: false)"], {})
    key = ""
    if scenario.trigger.event:
        event = event or example_event(scenario)
        matched, why = trigger_matches(scenario, event, now)
        reasons.append(why)
        if not matched:
            return Verdict(False, reasons, {})
        key = business_key(scenario, event, now)
    else:
        event = event or {"type": "segment"}
        reasons.append(f"entered by its {'campaign' if scenario.trigger.campaign else 'segment run'} "
                       "(the segment is profile's to answer)" if not scenario.trigger.manual else "entered by hand")
    refused = _re_entry(scenario, key, past, now)
    if refused:
        return Verdict(False, [*reasons, refused], {})
    variables = activation(event, profile or {}, {"state": "scheduled", "step": "", "entry_key": key,
                                                  "occurrences": 1, "entered_at": now, "variables": {}}, now)
    ok, targeting = eligible(scenario, variables)
    reasons.extend(targeting)
    if not ok:
        return Verdict(False, reasons, {})
    entry_key = entry_key_for(scenario, key, now, str(event.get("id", "")))
    if in_holdout(journey_id_for(scenario.id, customer_id, entry_key), scenario.holdout):
        reasons.append(f"in the control group ({scenario.holdout} % held out): would enter, never be contacted")
    return Verdict(True, reasons, personalise(scenario, variables))


def _re_entry(scenario: Scenario, key: str, past: list[PastEntry], now: datetime) -> str:
    rule = scenario.re_entry
    if rule.rule == "once" and past:
        return f"already entered on {past[0].entered_at:%Y-%m-%d} (once ever)"
    if rule.rule == "once_per_key" and any(p.entry_key == key for p in past):
        return f"already entered for {key!r} (once per business key)"
    if rule.rule == "once_per_period" and rule.period is not None:
        recent = [p for p in past if now - p.entered_at < rule.period]
        if recent:
            return f"entered on {recent[-1].entered_at:%Y-%m-%d}: once per {rule.period.days} days"
    return ""
