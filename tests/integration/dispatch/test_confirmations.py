"""Dispatch confirms every message it records to the arbiter, so the firing's slot is kept for good: a real arbiter
and a real dispatch over real gRPC (in-process servers, real PostgreSQL and Redis). The arbiter out of reach (a
TCP proxy the test cuts) delays the confirmation; it is never lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.common.v1 import identity_pb2, trigger_pb2
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.database import UnitOfWork, make_engine, session_factory
from services.dispatch.confirmations import GrpcArbiter
from services.dispatch.domain.confirmation import Confirmation
from services.dispatch.domain.messages import message_id_for
from services.dispatch.storage.messages import MessageRepository
from tests.integration.arbiter.proxy import Proxy
from tests.integration.arbiter.support import capped, decide_request


def _send(channel, firing_id: str, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    dispatch_pb2_grpc.DispatchServiceStub(channel).SendMessage(dispatch_pb2.SendMessageRequest(
        firing=trigger_pb2.TriggerFiring(firing_id=firing_id, scenario_id="s", customer_id=customer_id,
                                         template_id="welcome", variables={"first_name": "Ann"}),
        channel=identity_pb2.CHANNEL_EMAIL, address="ann@example.com"))


def _eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def _confirmation(settings, firing_id: str) -> Confirmation | None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings, "dispatch")
    try:
        with UnitOfWork(session_factory(engine)).begin() as session:
            return MessageRepository(session).confirmation_of(message_id_for(firing_id, "email"))
    finally:
        engine.dispose()


def _slot(arbiter: arbiter_pb2_grpc.ArbiterServiceStub, firing_id: str) -> int:
    return arbiter.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=firing_id)).decision.slot


def test_a_recorded_message_confirms_the_arbiters_slot(start_service, settings) -> None:
    _, arbiter_channel = start_service("arbiter", policy=capped(5), intake=False)
    arbiter = arbiter_pb2_grpc.ArbiterServiceStub(arbiter_channel)
    decision = arbiter.Decide(decide_request("f-confirm", customer_id="c-confirm")).decision
    assert (decision.verdict, decision.slot) == (arbiter_pb2.VERDICT_ALLOW, arbiter_pb2.SLOT_STATE_RESERVED)

    _, channel = start_service("dispatch", arbiter=GrpcArbiter(arbiter_channel, 5.0))
    _send(channel, "f-confirm", "c-confirm")
    _eventually(lambda: _slot(arbiter, "f-confirm") == arbiter_pb2.SLOT_STATE_CONFIRMED)
    _eventually(lambda: _confirmation(settings, "f-confirm") is Confirmation.CONFIRMED)
    # The slot stays: the arbiter refuses to give back a firing confirmed sent.
    with pytest.raises(grpc.RpcError) as refused:
        arbiter.Release(arbiter_pb2.ReleaseRequest(firing_id="f-confirm"))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_message_the_arbiter_never_decided_is_marked_undecided(start_service, settings) -> None:
    _, arbiter_channel = start_service("arbiter", policy=capped(5), intake=False)
    _, channel = start_service("dispatch", arbiter=GrpcArbiter(arbiter_channel, 5.0))
    _send(channel, "f-outside", "c-outside")
    _eventually(lambda: _confirmation(settings, "f-outside") is Confirmation.UNDECIDED)


def test_an_unreachable_arbiter_delays_the_confirmation_and_loses_nothing(start_service, settings) -> None:
    running, arbiter_channel = start_service("arbiter", policy=capped(5), intake=False)
    arbiter = arbiter_pb2_grpc.ArbiterServiceStub(arbiter_channel)
    arbiter.Decide(decide_request("f-later", customer_id="c-later"))
    proxy = Proxy(("127.0.0.1", running.port))
    proxy.cut()
    through_proxy = grpc.insecure_channel(f"127.0.0.1:{proxy.port}")
    try:
        _, channel = start_service("dispatch", arbiter=GrpcArbiter(through_proxy, 1.0))
        _send(channel, "f-later", "c-later")
        time.sleep(2.0)  # at least one attempt failed meanwhile
        assert _confirmation(settings, "f-later") is Confirmation.PENDING
        assert _slot(arbiter, "f-later") == arbiter_pb2.SLOT_STATE_RESERVED
        proxy.restore()
        _eventually(lambda: _slot(arbiter, "f-later") == arbiter_pb2.SLOT_STATE_CONFIRMED, seconds=30)
        _eventually(lambda: _confirmation(settings, "f-later") is Confirmation.CONFIRMED)
    finally:
        through_proxy.close()
