"""Every scenario of the shipped catalogue loads, starts on its example and sends at least one message.

The journey is run in memory by the engine's own domain (matching, entry, steps, waits) on a simulated clock;
the database side of the same steps is pinned by tests/integration/scenario.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from declic.scenarios.loader import load_catalogue
from declic.scenarios.samples import SAMPLE_EVENT, SAMPLE_PROFILE
from declic.scenarios.schema import Scenario
from services.scenario.domain.firings import Firing
from services.scenario.domain.journeys import Journey, entry_key_for, in_holdout, journey_id_for, new_journey
from services.scenario.domain.matching import Matcher
from services.scenario.domain.progress import advance

CATALOGUE = load_catalogue()
START = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
KINDS = ("time", "event", "behaviour", "conversion", "transaction", "campaign")
PLANS = ("conquest", "conversion", "loyalty", "ambassador", "reactivation")


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in changes.items():
        result[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return result


def example_event(scenario: Scenario) -> dict[str, Any]:
    given = scenario.example.event if scenario.example else {}
    kind = given.get("type", scenario.trigger.event)
    event = {"type": kind, "id": "web:x1", "source": "web", "time": START.isoformat(), "context": {}, kind: {}}
    event[kind] = merged(SAMPLE_EVENT[kind], given.get(kind, {}))
    event["context"] = given.get("context", {})
    return event


def customer_not_held_out(scenario: Scenario, entry_key: str) -> str:
    return next(c for c in (f"c{n}" for n in range(100))
                if not in_holdout(journey_id_for(scenario.id, c, entry_key), scenario.holdout))


def run(scenario: Scenario) -> tuple[Journey, list[Firing]]:
    profile = merged({**SAMPLE_PROFILE, "timezone": "Europe/Paris", "lifecycle": "active",
                      "contactability": {c: True for c in SAMPLE_PROFILE["contactability"]}},
                     scenario.example.profile if scenario.example else {})
    if scenario.trigger.event:
        event = example_event(scenario)
        [entry] = Matcher([scenario]).entries(event, START)
        key = entry_key_for(scenario, entry.business_key, START, event["id"])
        journey = new_journey(scenario, customer_not_held_out(scenario, key), key, START, event, event["id"])
        journey.occurrences = scenario.example.repeat if scenario.example else 1
    else:
        key = entry_key_for(scenario, "2026-01-05", START)
        journey = new_journey(scenario, customer_not_held_out(scenario, key), key, START, {"type": "segment"})
    firings: list[Firing] = []
    now, end = START, START + timedelta(days=60)
    while journey.is_open and journey.due_at is not None and journey.due_at <= end:
        now = max(now, journey.due_at)
        progress = advance(scenario, journey, profile, now)
        journey = progress.journey
        firings += progress.firings
    return journey, firings


def test_the_catalogue_loads_whole_and_covers_every_kind_and_plan() -> None:
    assert CATALOGUE.problems == {}
    assert len(CATALOGUE.scenarios) >= 30
    assert {s.kind for s in CATALOGUE.scenarios.values()} == set(KINDS)
    assert set(PLANS) <= {s.plan for s in CATALOGUE.scenarios.values()}
    assert {"welcome", "kibble-stock-alert", "abandoned-cart", "repurchase-overdue"} <= set(CATALOGUE.scenarios)


@pytest.mark.parametrize("scenario_id", sorted(CATALOGUE.scenarios))
def test_scenario_starts_on_its_example_and_sends(scenario_id: str) -> None:
    scenario = CATALOGUE.scenarios[scenario_id]
    journey, firings = run(scenario)
    assert firings, f"{scenario_id}: no message; journey {journey.state.value}: {journey.detail}"
    send_ids = {step.send.id for step in scenario.steps if step.send}
    for firing in firings:
        assert firing.step_id in send_ids and firing.scenario_id == scenario_id
        assert firing.transactional == (scenario.category == "transactional")
        assert firing.variables["category"] == scenario.category and firing.priority == scenario.priority
    if scenario.kind == "event":
        assert min(f.fired_at for f in firings) - START >= timedelta(hours=1)  # never at once
