"""The hand-off stream through the arbiter: cool-offs from complaints, unsubscribes and returns; merges add the
people's sends together; an erasure forgets the person."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.kit.protoconv import to_timestamp
from declic.kit.stream import StreamPublisher, stream_key
from services.arbiter.domain.policy import CoolOffs
from services.arbiter.intake import ArbiterIntake
from services.arbiter.policy_file import PolicySource
from services.arbiter.storage.counters import PressureCounters
from tests.integration.arbiter.support import EMAIL, SMS, capped, decide_request

pytestmark = pytest.mark.integration


def record(customer_id: str = "c-1", **body) -> bytes:
    return handoff_pb2.HandoffRecord(record_id=uuid.uuid4().hex, **body).SerializeToString()


def engagement(kind: int, channel: int, clock: ManualClock, customer_id: str = "c-1") -> bytes:
    event = event_pb2.Event(event_id=uuid.uuid4().hex, event_time=to_timestamp(clock.now()),
                            message_engagement=event_pb2.MessageEngagement(kind=kind, channel=channel))
    return record(accepted_event=handoff_pb2.AcceptedEvent(event=event, customer_id=customer_id))


def _wait_for(check, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the intake did not apply the record in time"
        time.sleep(0.05)


def test_cool_offs_merges_and_erasure_through_the_stream(start_service, settings, redis_client) -> None:
    clock = ManualClock()
    policy = capped(2).model_copy(update={"cool_off": CoolOffs.model_validate(
        {"complaint": "30 days", "unsubscribe": "90 days", "return": "7 days"})})
    running, channel = start_service("arbiter", clock=clock, policy=policy)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    publisher = StreamPublisher(redis_client, stream_key(settings.stream_prefix, "handoff"))
    intake = next(w for w in running.app.workers)
    assert intake.group == "arbiter"

    publisher.publish([engagement(event_pb2.ENGAGEMENT_KIND_UNSUBSCRIBED, EMAIL, clock)])
    both = (EMAIL, SMS)
    _wait_for(lambda: stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1")).cool_offs)
    moved = stub.Decide(decide_request("f1", channels=both)).decision
    assert (moved.verdict, moved.channel) == (arbiter_pb2.VERDICT_ALLOW, SMS)  # email closed for 90 days

    publisher.publish([engagement(event_pb2.ENGAGEMENT_KIND_COMPLAINED, EMAIL, clock, customer_id="c-2")])
    _wait_for(lambda: stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-2")).cool_offs)
    cooled = stub.Decide(decide_request("g1", customer_id="c-2")).decision
    assert cooled.reason == arbiter_pb2.SUPPRESS_REASON_COOL_OFF
    clock.advance(timedelta(days=31))
    assert stub.Decide(decide_request("g2", customer_id="c-2")).decision.verdict == arbiter_pb2.VERDICT_ALLOW

    # c-1 has 1 send in the window, c-2 has 1: merged, the survivor has 2 = the cap.
    clock.advance(timedelta(days=-1))
    stub.Decide(decide_request("f2", channels=both))
    publisher.publish([record(customers_merged=handoff_pb2.CustomersMerged(survivor_id="c-2", merged_ids=["c-1"]))])
    _wait_for(lambda: len(stub.GetContactHistory(arbiter_pb2.GetContactHistoryRequest(customer_id="c-2"))
                          .decisions) == 4)
    assert stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-2")).counters[0].used == 2
    # The survivor took c-1's consents and cool-offs too: e-mail stays closed (c-1 unsubscribed), and on sms the cap
    # is reached.
    assert stub.Decide(decide_request("g3", customer_id="c-2")).decision.reason == \
        arbiter_pb2.SUPPRESS_REASON_NO_CONSENT
    assert stub.Decide(decide_request("g4", customer_id="c-2", channels=both)).decision.reason == \
        arbiter_pb2.SUPPRESS_REASON_CAP_REACHED

    publisher.publish([record(customer_erased=handoff_pb2.CustomerErased(customer_id="c-2"))])
    _wait_for(lambda: not stub.GetContactHistory(arbiter_pb2.GetContactHistoryRequest(customer_id="c-2")).decisions)
    assert stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-2")).counters[0].used == 0


def test_a_return_starts_a_cool_off(settings, start_service, redis_client) -> None:
    clock = ManualClock()
    _, channel = start_service("arbiter", clock=clock, policy=capped(5), intake=False)
    engine = make_engine(settings, "arbiter")
    returns = capped(5).model_copy(update={"cool_off": CoolOffs.model_validate({"return": "7 days"})})
    intake = ArbiterIntake(UnitOfWork(session_factory(engine)), clock, PolicySource(returns),
                           PressureCounters(redis_client, settings.stream_prefix))
    order = event_pb2.Event(event_id="r1", event_time=to_timestamp(clock.now()),
                            order=event_pb2.Order(order_id="o1", kind=event_pb2.ORDER_KIND_RETURN))
    intake.handle_batch([record(accepted_event=handoff_pb2.AcceptedEvent(event=order, customer_id="c-9"))])
    engine.dispose()
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    decision = stub.Decide(decide_request("r-f1", customer_id="c-9")).decision
    assert decision.reason == arbiter_pb2.SUPPRESS_REASON_COOL_OFF and "return" in decision.explanation


def test_a_consent_withdrawn_on_the_stream_closes_the_channel_until_given_again(start_service, settings,
                                                                                 redis_client) -> None:
    from declic.common.v1 import identity_pb2

    clock = ManualClock()
    _, channel = start_service("arbiter", clock=clock, policy=capped(5))
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    publisher = StreamPublisher(redis_client, stream_key(settings.stream_prefix, "handoff"))

    def identify(state: int, at) -> bytes:
        consent = identity_pb2.Consent(channel=EMAIL, state=state, time=to_timestamp(at))
        event = event_pb2.Event(event_id=uuid.uuid4().hex, event_time=to_timestamp(at),
                                identify=event_pb2.Identify(consents=[consent]))
        return record(accepted_event=handoff_pb2.AcceptedEvent(event=event, customer_id="c-5"))

    publisher.publish([identify(identity_pb2.CONSENT_STATE_DENIED, clock.now())])
    _wait_for(lambda: stub.Decide(decide_request(f"w{uuid.uuid4().hex[:6]}", customer_id="c-5")).decision.reason
              == arbiter_pb2.SUPPRESS_REASON_NO_CONSENT)
    refused = stub.Decide(decide_request("w-final", customer_id="c-5")).decision
    assert refused.explanation == "consent withdrawn on email"
    # An older grant arriving late changes nothing; a newer one opens the channel again.
    publisher.publish([identify(identity_pb2.CONSENT_STATE_GRANTED, clock.now() - timedelta(days=1)),
                       identify(identity_pb2.CONSENT_STATE_GRANTED, clock.now() + timedelta(minutes=1))])
    _wait_for(lambda: stub.Decide(decide_request(f"g{uuid.uuid4().hex[:6]}", customer_id="c-5")).decision.verdict
              == arbiter_pb2.VERDICT_ALLOW)
