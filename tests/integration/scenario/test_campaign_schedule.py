"""A campaign whose file names a send time runs by itself: entered shortly before it, the first message due at
that time and the others at the campaign's pace, once across replicas; one found hours late is not started."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from declic.scenarios.schema import Scenario
from services.scenario.segments import CAMPAIGN_LEAD, SegmentRunner
from tests.integration.scenario.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def harness(settings):
    harness = Harness(settings, start=START)
    yield harness
    harness.close()


def _sending_at(harness: Harness, send_at: datetime) -> Scenario:
    shipped = harness.catalogue.scenarios["spring-sale-campaign"]
    campaign = shipped.trigger.campaign.model_copy(update={"send_at": send_at})
    return shipped.model_copy(update={"trigger": shipped.trigger.model_copy(update={"campaign": campaign})})


def test_a_campaign_with_a_send_time_runs_by_itself_once(harness) -> None:
    harness.profiles.segment_members = [f"cs{n}" for n in range(6)]
    send_at = START + timedelta(hours=2)
    campaign = _sending_at(harness, send_at)
    assert harness.segments.run_due([campaign]) == 0  # two hours early: nobody entered yet
    harness.clock.advance(timedelta(hours=2) - CAMPAIGN_LEAD + timedelta(minutes=1))
    assert harness.segments.run_due([campaign], paused=frozenset({"spring-sale-campaign"})) == 0
    assert harness.segments.run_due([campaign]) == 6
    assert harness.segments.run_due([campaign]) == 0
    other_replica = SegmentRunner(harness.uow, harness.clock, harness.profiles)
    assert other_replica.run_due([campaign]) == 0  # the run is claimed in the database
    pace = campaign.trigger.campaign.pace_per_second
    for n, customer in enumerate(harness.profiles.segment_members):
        assert harness.journey(customer, "spring-sale-campaign").due_at == send_at + timedelta(seconds=n / pace)


def test_a_campaign_found_hours_late_is_not_started(harness, caplog) -> None:
    harness.profiles.segment_members = ["late-1", "late-2"]
    campaign = _sending_at(harness, START - timedelta(hours=3))
    with caplog.at_level(logging.WARNING, logger="declic.scenario.segments"):
        assert harness.segments.run_due([campaign]) == 0
    assert not harness.journeys("late-1")
    assert "not sent by itself (TriggerCampaign sends it)" in caplog.text
