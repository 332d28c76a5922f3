"""Scenario's hand-off intake on the real database: idempotent, merge-aware, erasure-aware."""

from __future__ import annotations

import pytest

from declic.ingest.v1 import handoff_pb2
from services.scenario.domain.journeys import JourneyState
from tests.integration.scenario.harness import Harness, identify

pytestmark = pytest.mark.integration


def merge_record(record_id: str, survivor: str, merged: str) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=record_id,
        customers_merged=handoff_pb2.CustomersMerged(survivor_id=survivor, merged_ids=[merged]),
    ).SerializeToString()


def test_intake_is_idempotent_and_follows_merges(settings) -> None:
    harness = Harness(settings)
    event = identify()
    for _ in range(3):  # at-least-once delivery: the same record three times
        harness.send("A", event, new_customer=True)
    harness.send("B", identify(), new_customer=True)
    assert [j.scenario_id for j in harness.journeys("A")].count("welcome") == 1
    assert harness.journey("A", "welcome").occurrences == 1  # the inbox skipped the repeats
    assert [j.scenario_id for j in harness.journeys("B")].count("welcome") == 1
    # A and B were one person: only one welcome may go out.
    harness.intake(merge_record("m1", survivor="A", merged="B"))
    kept, dropped = harness.journey("A", "welcome"), harness.journey("B", "welcome")
    assert kept.state is JourneyState.SCHEDULED
    assert dropped.state is JourneyState.EXITED and "duplicate" in dropped.detail
    harness.intake(handoff_pb2.HandoffRecord(record_id="x1", customer_erased=handoff_pb2.CustomerErased(
        customer_id="A")).SerializeToString())
    assert harness.journeys("A") == []
    harness.close()


def test_only_records_that_may_change_something_are_claimed(settings) -> None:
    from sqlalchemy import select

    from declic.common.v1 import event_pb2
    from services.scenario.storage.tables import inbox

    harness = Harness(settings)
    home = event_pb2.Event(event_id="home-1", source="web")
    home.page_view.url = "https://shop.example/"  # no trigger reads the home page, no journey is steered by it
    signup = identify()
    signup.event_id, signup.source = "signup-1", "web"
    records = []
    for event in (home, signup):
        event.event_time.GetCurrentTime()
        records.append(handoff_pb2.HandoffRecord(record_id=f"web:{event.event_id}", accepted_event=(
            handoff_pb2.AcceptedEvent(event=event, customer_id="C", new_customer=True))).SerializeToString())
    for _ in range(2):  # delivered twice
        harness.intake.handle_batch(records)
    with harness.uow.begin() as session:
        claimed = set(session.execute(select(inbox.c.record_id)).scalars())
    assert "web:signup-1" in claimed and "web:home-1" not in claimed
    assert harness.journey("C", "welcome").occurrences == 1  # the sign-up applied once
    harness.close()
