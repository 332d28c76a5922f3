"""Scenario's hand-off intake on the real database: idempotent, merge-aware."""

from __future__ import annotations

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from services.scenario.domain.firings import FiringState
from services.scenario.intake import HandoffIntake
from services.scenario.storage.firings import FiringRepository


def identify_record(record_id: str, customer_id: str, new_customer: bool = True) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=record_id,
        accepted_event=handoff_pb2.AcceptedEvent(
            event=event_pb2.Event(event_id=record_id, source="web", identify=event_pb2.Identify(first_name="Ann")),
            customer_id=customer_id,
            new_customer=new_customer,
        ),
    ).SerializeToString()


def merge_record(record_id: str, survivor: str, merged: str) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=record_id,
        customers_merged=handoff_pb2.CustomersMerged(survivor_id=survivor, merged_ids=[merged]),
    ).SerializeToString()


def test_intake_is_idempotent_and_follows_merges(settings) -> None:
    engine = make_engine(settings, "scenario")
    migrate(engine, "scenario", settings)
    uow = UnitOfWork(session_factory(engine))
    intake = HandoffIntake(uow, ManualClock())
    for _ in range(3):  # at-least-once delivery: the same record three times
        intake(identify_record("r1", "A"))
    intake(identify_record("r2", "B"))
    with uow.begin() as session:
        repository = FiringRepository(session)
        assert len(repository.for_customer("A")) == 1
        assert len(repository.for_customer("B")) == 1
    # A and B were one person: only one welcome may go out.
    intake(merge_record("m1", survivor="A", merged="B"))
    with uow.begin() as session:
        repository = FiringRepository(session)
        [kept] = repository.for_customer("A")
        [dropped] = repository.for_customer("B")
    assert kept.state is FiringState.PENDING
    assert dropped.state is FiringState.SUPPRESSED and "duplicate" in dropped.detail
    engine.dispose()
