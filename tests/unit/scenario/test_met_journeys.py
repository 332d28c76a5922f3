"""The journeys a process met lately, and its customers' scenarios entered once per period: remembered up to a
bound, then forgotten at once."""

from __future__ import annotations

from datetime import UTC, datetime

from services.scenario.domain.journeys import Journey, JourneyState
from services.scenario.steering import MetJourneys

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def journey(journey_id: str, customer: str = "c", scenario: str = "weekly") -> Journey:
    return Journey(journey_id=journey_id, scenario_id=scenario, customer_id=customer, entry_key=journey_id,
                   state=JourneyState.SCHEDULED, entered_at=NOW, due_at=NOW)


def test_a_journey_met_and_another_of_a_scenario_met_once_per_period_are_known() -> None:
    met = MetJourneys()
    met.add([journey("a"), journey("b", scenario="plain")], once_per={"weekly"})
    assert met.knows(journey("a")) and met.knows(journey("b", scenario="plain"))
    assert met.knows(journey("x"))  # another journey of the customer's weekly scenario: likely held back
    assert not met.knows(journey("y", scenario="plain"))  # not entered once per period: likely new
    assert not met.knows(journey("z", customer="d"))


def test_met_journeys_are_remembered_up_to_the_limit_then_forgotten_at_once() -> None:
    met = MetJourneys(limit=4)
    met.add([journey("a"), journey("b"), journey("c")], once_per=set())
    assert {"a", "b", "c"} <= met.ids
    met.add([journey("c"), journey("d")], once_per=set())  # five with the repeat: over the limit, the others go
    assert met.ids == {"c", "d"}
