"""Entering a batch of journeys in the database (`JourneyRepository.enter_many`, counting occurrences): what each
entry becomes when its journey is stored already (open or ended), when the customer's last entry into the scenario
is another journey within the period, and when it is new — whatever the batch's other entries, and whether they
are sent whole or settled on their ids first (entries met before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.scenario.domain.journeys import Journey, JourneyState
from services.scenario.storage.journeys import JourneyRepository
from tests.integration.scenario.harness import Harness

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
WEEK = {"weekly": timedelta(days=7)}


@pytest.fixture(params=["sent whole", "settled on their ids first", "every other one settled first"])
def harness(settings, request):
    harness = Harness(settings, start=START)
    harness.met = request.param  # type: ignore[attr-defined]
    yield harness
    harness.close()


def journey(journey_id: str, customer: str, scenario: str, at: datetime, occurrences: int = 1) -> Journey:
    return Journey(journey_id=journey_id, scenario_id=scenario, customer_id=customer, entry_key=journey_id,
                   state=JourneyState.SCHEDULED, entered_at=at, due_at=at + timedelta(hours=1),
                   occurrences=occurrences, memory={"event": {"type": "page_view", "id": journey_id}})


def enter(harness: Harness, journeys: list[Journey], once_per: dict[str, timedelta] | None = None) -> int:
    with harness.uow.begin() as session:
        settled = {"sent whole": 0, "settled on their ids first": 1, "every other one settled first": 2}[
            harness.met]  # type: ignore[attr-defined]
        met = {journey.journey_id for journey in journeys[::settled]} if settled else set()
        entered = JourneyRepository(session).enter_many(journeys, count_occurrences=True, once_per=once_per,
                                                        met=lambda journey: journey.journey_id in met)
        session.commit()
    return entered


def stored(harness: Harness, customer: str) -> dict[str, tuple[str, int]]:
    return {j.journey_id: (j.state.value, j.occurrences) for j in harness.journeys(customer)}


def test_an_entry_counts_on_an_open_journey_does_nothing_to_an_ended_one_and_enters_a_new_one(harness) -> None:
    assert enter(harness, [journey("open", "a", "plain", START), journey("ended", "a", "plain", START)]) == 2
    with harness.uow.begin() as session:
        [ended] = [j for j in JourneyRepository(session).of_customer("a") if j.journey_id == "ended"]
        ended.state, ended.due_at = JourneyState.COMPLETED, None
        assert JourneyRepository(session).save(ended, START)
        session.commit()
    later = START + timedelta(hours=2)
    entered = enter(harness, [journey("open", "a", "plain", later, occurrences=3),
                              journey("ended", "a", "plain", later, occurrences=2),
                              journey("new", "a", "plain", later)])
    assert entered == 1
    assert stored(harness, "a") == {"open": ("scheduled", 4), "ended": ("completed", 1), "new": ("scheduled", 1)}
    [new] = [j for j in harness.journeys("a") if j.journey_id == "new"]
    assert new.entered_at == later and new.memory == {"event": {"type": "page_view", "id": "new"}}


def test_once_per_period_neither_enters_nor_counts_behind_another_journeys_entry(harness) -> None:
    assert enter(harness, [journey("first", "b", "weekly", START)], WEEK) == 1
    # Within the week: another journey is not entered; the last entry itself counts one more occurrence.
    day = START + timedelta(days=1)
    assert enter(harness, [journey("second", "b", "weekly", day), journey("first", "b", "weekly", day)], WEEK) == 0
    assert stored(harness, "b") == {"first": ("scheduled", 2)}
    # Eight days later another journey is entered; then the first, open still, is no longer the last entry: its
    # occurrence is not counted while the other's week runs.
    week = START + timedelta(days=8)
    assert enter(harness, [journey("third", "b", "weekly", week)], WEEK) == 1
    assert enter(harness, [journey("first", "b", "weekly", week + timedelta(days=1))], WEEK) == 0
    assert stored(harness, "b") == {"first": ("scheduled", 2), "third": ("scheduled", 1)}
    # A scenario not entered once per period is not held back by it.
    assert enter(harness, [journey("other", "b", "plain", week)], WEEK) == 1


def test_once_per_is_only_checked_when_counting(harness) -> None:
    with harness.uow.begin() as session, pytest.raises(ValueError):
        JourneyRepository(session).enter_many([journey("x", "c", "weekly", START)], once_per=WEEK)
