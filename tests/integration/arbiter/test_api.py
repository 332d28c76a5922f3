"""Arbiter against the real database and Redis, over gRPC."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import grpc
import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.common.v1 import identity_pb2, trigger_pb2
from declic.kit.clock import ManualClock
from services.arbiter.domain.pressure import PressurePolicy

EMAIL = identity_pb2.CHANNEL_EMAIL


def decide_request(firing_id: str, customer_id: str = "c-1", transactional: bool = False):
    return arbiter_pb2.DecideRequest(
        firing=trigger_pb2.TriggerFiring(
            firing_id=firing_id, scenario_id="s", customer_id=customer_id, channels=[EMAIL],
            transactional=transactional,
        ),
        contactable_channels=[EMAIL],
    )


def test_cap_holds_under_concurrent_replicas(start_service) -> None:
    clock = ManualClock()
    policy = PressurePolicy(cap=3, window=timedelta(days=7))
    # Two arbiter replicas over the same database and Redis.
    _, channel_a = start_service("arbiter", clock=clock, policy=policy)
    _, channel_b = start_service("arbiter", clock=clock, policy=policy)
    stubs = [arbiter_pb2_grpc.ArbiterServiceStub(channel_a), arbiter_pb2_grpc.ArbiterServiceStub(channel_b)]
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda i: stubs[i % 2].Decide(decide_request(f"f{i}")).decision.verdict, range(20)))
    assert verdicts.count(arbiter_pb2.VERDICT_ALLOW) == 3
    assert verdicts.count(arbiter_pb2.VERDICT_SUPPRESS) == 17
    # Transactional messages are not capped; the window slides with the clock.
    assert stubs[0].Decide(decide_request("t1", transactional=True)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    clock.advance(timedelta(days=8))
    assert stubs[1].Decide(decide_request("late")).decision.verdict == arbiter_pb2.VERDICT_ALLOW


def test_decide_is_idempotent_and_history_explains(start_service) -> None:
    _, channel = start_service("arbiter", policy=PressurePolicy(cap=1))
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    first = stub.Decide(decide_request("f1")).decision
    assert stub.Decide(decide_request("f1")).decision == first  # same firing: same answer, no second slot
    second = stub.Decide(decide_request("f2")).decision
    assert second.reason == arbiter_pb2.SUPPRESS_REASON_CAP_REACHED
    assert "cap of 1" in second.explanation
    history = stub.GetContactHistory(arbiter_pb2.GetContactHistoryRequest(customer_id="c-1")).decisions
    assert {d.firing_id for d in history} == {"f1", "f2"}


def test_missing_fields_are_named(start_service) -> None:
    _, channel = start_service("arbiter")
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Decide(arbiter_pb2.DecideRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "firing.firing_id: is required" in caught.value.details()
