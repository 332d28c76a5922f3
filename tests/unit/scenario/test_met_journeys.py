"""The journeys a process met lately: remembered up to a bound, then forgotten at once."""

from __future__ import annotations

from services.scenario.steering import MetJourneys


def test_met_journeys_are_remembered_up_to_the_limit_then_forgotten_at_once() -> None:
    met = MetJourneys(limit=4)
    met.add(["a", "b", "c"])
    assert {"a", "b", "c"} <= met.ids
    met.add(["c", "d"])  # five with the repeat: over the limit, so the earlier ones go
    assert met.ids == {"c", "d"}
