"""Exclusion lists, pressure, may-we-contact, confirm/release, batches, and what a call-center token may do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.auth import with_token
from declic.kit.clock import ManualClock
from declic.kit.protoconv import to_timestamp
from declic.kit.server import start
from services.arbiter.domain.policy import QuietHours
from services.arbiter.main import bootstrap
from tests.integration.arbiter.support import EMAIL, SMS, capped, decide_request

pytestmark = pytest.mark.integration


@pytest.fixture
def stub(start_service):
    clock = ManualClock(datetime(2026, 1, 10, 2, tzinfo=UTC))  # 11:00 in Tokyo
    quiet = QuietHours.model_validate({"start": "21:00", "end": "08:00", "channels": ["sms"]})
    _, channel = start_service("arbiter", clock=clock, policy=capped(2, quiet_hours=quiet), intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    stub.clock = clock
    return stub


def test_an_excluded_person_gets_no_marketing_until_removed_or_expired(stub) -> None:
    exclusion = arbiter_pb2.Exclusion(customer_id="c-1", list="dispute", reason="open dispute", source="crm",
                                      expires_at=to_timestamp(stub.clock.now() + timedelta(days=1)))
    stub.Exclude(arbiter_pb2.ExcludeRequest(exclusion=exclusion))
    decision = stub.Decide(decide_request("f1")).decision
    assert (decision.verdict, decision.reason) == (arbiter_pb2.VERDICT_SUPPRESS, arbiter_pb2.SUPPRESS_REASON_EXCLUDED)
    listed = stub.ListExclusions(arbiter_pb2.ListExclusionsRequest(list="dispute")).exclusions
    assert [(e.customer_id, e.reason, e.source) for e in listed] == [("c-1", "open dispute", "crm")]
    assert stub.Unexclude(arbiter_pb2.UnexcludeRequest(customer_id="c-1", list="dispute")).removed
    assert not stub.Unexclude(arbiter_pb2.UnexcludeRequest(customer_id="c-1", list="dispute")).removed
    assert stub.Decide(decide_request("f2")).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    with pytest.raises(grpc.RpcError) as caught:
        stub.Exclude(arbiter_pb2.ExcludeRequest(exclusion=arbiter_pb2.Exclusion(customer_id="c-1", list="x")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "exclusion.reason: is required" in caught.value.details()


def test_pressure_can_contact_confirm_and_release(stub) -> None:
    allowed = stub.Decide(decide_request("f1")).decision
    pressure = stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1"))
    assert [(c.rule, c.used, c.limit) for c in pressure.counters] == [("cap:week", 1, 2)]
    assert stub.Confirm(arbiter_pb2.ConfirmRequest(firing_id="f1")).decision.slot == arbiter_pb2.SLOT_STATE_CONFIRMED
    with pytest.raises(grpc.RpcError) as caught:
        stub.Release(arbiter_pb2.ReleaseRequest(firing_id="f1"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    stub.Decide(decide_request("f2"))
    can = stub.CanContact(arbiter_pb2.CanContactRequest(customer_id="c-1", contactable_channels=[EMAIL]))
    assert not can.allowed and "2 of 2" in can.explanation
    assert stub.Release(arbiter_pb2.ReleaseRequest(firing_id="f2")).decision.slot == arbiter_pb2.SLOT_STATE_RELEASED
    can = stub.CanContact(arbiter_pb2.CanContactRequest(customer_id="c-1", contactable_channels=[SMS, EMAIL],
                                                        channels=[SMS, EMAIL], timezone="Asia/Tokyo"))
    assert can.allowed and can.channel == SMS and allowed.channel == EMAIL
    stub.clock.advance(timedelta(hours=19))  # 21:00 UTC is 06:00 in Tokyo: quiet on sms until 08:00
    can = stub.CanContact(arbiter_pb2.CanContactRequest(customer_id="c-1", contactable_channels=[SMS],
                                                        timezone="Asia/Tokyo"))
    assert not can.allowed and can.next_allowed_at.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 10, 23, tzinfo=UTC)


def test_a_batch_answers_in_order_and_names_a_bad_item(stub) -> None:
    batch = arbiter_pb2.DecideBatchRequest(requests=[decide_request(f"b{i}", customer_id=f"p{i % 2}")
                                                     for i in range(6)])
    verdicts = [d.verdict for d in stub.DecideBatch(batch).decisions]
    assert verdicts == [arbiter_pb2.VERDICT_ALLOW] * 4 + [arbiter_pb2.VERDICT_SUPPRESS] * 2
    bad = arbiter_pb2.DecideBatchRequest(requests=[decide_request("ok"), arbiter_pb2.DecideRequest(timezone="Mars/X")])
    with pytest.raises(grpc.RpcError) as caught:
        stub.DecideBatch(bad)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "requests[1].firing.firing_id: is required" in caught.value.details()
    assert "requests[1].timezone" in caught.value.details()
    too_many = arbiter_pb2.DecideBatchRequest(requests=[decide_request(f"m{i}") for i in range(101)])
    with pytest.raises(grpc.RpcError) as caught:
        stub.DecideBatch(too_many)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "requests" in caught.value.details()


def test_a_call_center_token_reads_but_cannot_decide_or_exclude(settings) -> None:
    secured = settings.model_copy(update={"auth_tokens": {"svc": ["*"], "cc": ["profile:read", "arbiter:read"]}})
    running = start(bootstrap(secured, policy=capped(3), intake=False), secured, port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as bare:
            agent = arbiter_pb2_grpc.ArbiterServiceStub(with_token(bare, "cc"))
            service = arbiter_pb2_grpc.ArbiterServiceStub(with_token(bare, "svc"))
            service.Decide(decide_request("f1"))
            assert agent.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1")).counters[0].used == 1
            assert len(agent.GetContactHistory(arbiter_pb2.GetContactHistoryRequest(customer_id="c-1")).decisions) == 1
            assert agent.CanContact(arbiter_pb2.CanContactRequest(customer_id="c-1", contactable_channels=[EMAIL])
                                    ).allowed
            for call, request in ((agent.Decide, decide_request("f2")),
                                  (agent.Exclude, arbiter_pb2.ExcludeRequest()),
                                  (agent.Release, arbiter_pb2.ReleaseRequest(firing_id="f1"))):
                with pytest.raises(grpc.RpcError) as caught:
                    call(request)
                assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        running.stop(grace=0.5, drain=0)
