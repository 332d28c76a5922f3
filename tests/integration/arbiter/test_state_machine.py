"""Random decisions, re-asks, confirmations, releases, merges and clock jumps against the real PostgreSQL and Redis:
no cap is ever exceeded by a new slot, and a higher priority never loses to a lower one inside the window."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from services.arbiter.domain.decisions import Decision, FiringRequest, SlotState, SuppressReason, Verdict
from services.arbiter.intake import ArbiterIntake
from services.arbiter.policy_file import PolicySource
from services.arbiter.service import ArbiterService
from services.arbiter.storage.counters import PressureCounters
from services.arbiter.storage.counters_lua import HELD_GRACE_MS
from tests.integration.arbiter.support import capped

pytestmark = pytest.mark.integration
CAP, HOLD, WINDOW = 3, timedelta(minutes=10), timedelta(days=7)
HELD_GRACE = timedelta(milliseconds=HELD_GRACE_MS)
"""A held slot nobody asks for again within this long after its hold's end counts no more."""


def test_caps_and_priorities_hold_over_random_sequences(settings) -> None:
    engine = make_engine(settings, "arbiter")
    migrate(engine, "arbiter", settings)
    uow, clock = UnitOfWork(session_factory(engine)), ManualClock()
    counters = PressureCounters(make_redis(settings), settings.stream_prefix)
    source = PolicySource(capped(CAP, HOLD))
    service = ArbiterService(uow, counters, clock, source)
    intake = ArbiterIntake(uow, clock, source, counters)

    class Arbiter(RuleBasedStateMachine):
        @initialize()
        def people(self) -> None:
            run = uuid.uuid4().hex[:8]
            self.people = [f"{run}-a", f"{run}-b"]
            self.asked: dict[str, FiringRequest] = {}
            self.count = 0

        def slots(self, customer_id: str) -> list[Decision]:
            since, now = clock.now() - WINDOW, clock.now()
            return [d for d in service.history(customer_id, 1000) if d.counts and d.slot_at and d.slot_at >= since
                    and not (d.slot is SlotState.HELD and d.defer_until and now >= d.defer_until + HELD_GRACE)]

        def check(self, request: FiringRequest, decision: Decision, before: list[Decision]) -> None:
            after = self.slots(request.customer_id)
            # A merge may leave a person above the cap (two people's sends added); then no new slot until below.
            assert len(after) <= max(CAP, len(before)), f"{len(before)} slots before, {len(after)} after"
            if decision.verdict is Verdict.SUPPRESS and decision.reason is SuppressReason.CAP_REACHED:
                lower_held = [d for d in before if d.slot is SlotState.HELD and d.priority < decision.priority]
                # Lost to a lower priority only if displacing every lower held slot would have made room: after a
                # merge a person may hold more slots than the cap, and then displacing them all would not (the
                # script displaces nothing it cannot use — found by this machine: 4 slots, one lower, cap 3).
                assert not lower_held or len(before) - len(lower_held) >= CAP, (
                    "a higher priority lost to a lower one still held")
            if decision.reason is SuppressReason.HIGHER_PRIORITY:
                winner = service.get(decision.displaced_by)
                assert winner.priority > decision.priority

        @rule(person=st.integers(0, 1), priority=st.integers(0, 3), event=st.sampled_from(["", "e1", "e2"]))
        def decide(self, person: int, priority: int, event: str) -> None:
            self.count += 1
            request = FiringRequest(f"{self.people[person]}-{self.count}", "s", self.people[person], ("email",),
                                    frozenset({"email"}), priority=priority, cause_event_id=event)
            before = self.slots(request.customer_id)
            decision = service.decide(request)
            self.asked[request.firing_id] = request
            self.check(request, decision, before)

        @precondition(lambda self: bool(self.asked))
        @rule(data=st.data())
        def ask_again(self, data: st.DataObject) -> None:
            request = self.asked[data.draw(st.sampled_from(sorted(self.asked)))]
            live = service.history(request.customer_id, 1000)
            if not any(d.firing_id == request.firing_id for d in live):
                return  # merged away: its history now sits with the survivor under another id
            before = self.slots(request.customer_id)
            self.check(request, service.decide(request), before)

        @precondition(lambda self: bool(self.asked))
        @rule(data=st.data(), confirm=st.booleans())
        def settle(self, data: st.DataObject, confirm: bool) -> None:
            firing_id = data.draw(st.sampled_from(sorted(self.asked)))
            decision = service.get(firing_id)
            if decision.verdict is Verdict.ALLOW and decision.slot is SlotState.RESERVED:
                (service.confirm if confirm else service.release)(firing_id)

        @rule(minutes=st.sampled_from([1, 5, 11, 60, 60 * 24, 60 * 24 * 4]))
        def jump(self, minutes: int) -> None:
            clock.advance(timedelta(minutes=minutes))

        @precondition(lambda self: len(self.people) == 2)
        @rule()
        def merge(self) -> None:
            survivor, merged = self.people
            record = handoff_pb2.HandoffRecord(record_id=uuid.uuid4().hex, customers_merged=handoff_pb2.CustomersMerged(
                survivor_id=survivor, merged_ids=[merged]))
            intake.handle_batch([record.SerializeToString()])
            self.people = [survivor, survivor]
            self.asked = {fid: FiringRequest(r.firing_id, r.scenario_id, survivor, r.wanted_channels,
                                             r.contactable_channels, priority=r.priority,
                                             cause_event_id=r.cause_event_id) for fid, r in self.asked.items()}

    Arbiter.TestCase.settings = hypothesis_settings(max_examples=30, stateful_step_count=15, deadline=None,
                                                    suppress_health_check=list(HealthCheck))
    try:
        Arbiter.TestCase().runTest()
    finally:
        engine.dispose()
