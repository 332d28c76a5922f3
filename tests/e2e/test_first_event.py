"""One event, all the way: ingest → profile → scenario → arbiter → dispatch, over real gRPC
between real processes — also with scenario or dispatch down for a while, and with the
same event sent twice."""

from __future__ import annotations

import signal
import time
import uuid
from datetime import UTC, datetime

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.protoconv import to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e


def granted(channel: int, now) -> identity_pb2.Consent:
    return identity_pb2.Consent(
        channel=channel, state=identity_pb2.CONSENT_STATE_GRANTED, legal_basis=identity_pb2.LEGAL_BASIS_CONSENT,
        source="web-form", time=now,
    )


def signup(email: str = "", phone: str = "", event_id: str | None = None) -> event_pb2.Event:
    now = to_timestamp(datetime.now(UTC))
    identifiers, consents = [], []
    if email:
        identifiers.append(identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=email))
        consents.append(granted(identity_pb2.CHANNEL_EMAIL, now))
    if phone:
        identifiers.append(identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_PHONE, value=phone))
        consents.append(granted(identity_pb2.CHANNEL_SMS, now))
    return event_pb2.Event(
        event_id=event_id or uuid.uuid4().hex,
        source="webshop",
        event_time=now,
        identifiers=identifiers,
        identify=event_pb2.Identify(first_name="Ann", consents=consents, reason="newsletter_signup"),
    )


def ingest(channel_to, event: event_pb2.Event) -> ingest_pb2.EventResult:
    stub = ingest_pb2_grpc.IngestServiceStub(channel_to("ingest"))
    # 30 s: right after a cold start, the first call waits for ingest's writer process (spawned) on a loaded host.
    return stub.IngestEvent(ingest_pb2.IngestEventRequest(event=event), timeout=30).result


def messages_of(channel_to, customer_id: str) -> list[dispatch_pb2.Message]:
    stub = dispatch_pb2_grpc.DispatchServiceStub(channel_to("dispatch"))
    return list(stub.ListMessages(dispatch_pb2.ListMessagesRequest(customer_id=customer_id), timeout=5).messages)


def test_signup_flows_to_one_welcome_message(channel_to) -> None:
    result = ingest(channel_to, signup(email=f"Ann.{uuid.uuid4().hex[:6]}@Example.com"))
    assert result.status == ingest_pb2.EVENT_STATUS_ACCEPTED, result
    customer_id = result.customer_id

    profile = eventually(lambda: profile_pb2_grpc.ProfileServiceStub(channel_to("profile")).GetProfile(
        profile_pb2.GetProfileRequest(customer_id=customer_id), timeout=5).profile)
    assert profile.first_name == "Ann"

    [message] = eventually(lambda: messages_of(channel_to, customer_id))
    assert message.channel == identity_pb2.CHANNEL_EMAIL
    assert message.address.startswith("ann.") and message.address.endswith("@example.com")  # normalised by ingest
    assert message.scenario_id == "welcome" and message.subject == "Welcome, Ann!"

    firings = scenario_pb2_grpc.ScenarioServiceStub(channel_to("scenario")).ListFirings(
        scenario_pb2.ListFiringsRequest(customer_id=customer_id), timeout=5).firings
    assert [f.state for f in firings] == [scenario_pb2.FIRING_STATE_SENT]


def test_sms_when_email_is_not_possible(channel_to) -> None:
    result = ingest(channel_to, signup(phone="+33612345678"))
    [message] = eventually(lambda: messages_of(channel_to, result.customer_id))
    assert message.channel == identity_pb2.CHANNEL_SMS and message.address == "+33612345678"


def test_same_event_twice_gives_one_message(channel_to) -> None:
    event = signup(email=f"twice.{uuid.uuid4().hex[:6]}@example.com")
    first = ingest(channel_to, event)
    second = ingest(channel_to, event)
    assert first.status == ingest_pb2.EVENT_STATUS_ACCEPTED
    assert second.status == ingest_pb2.EVENT_STATUS_DUPLICATE
    assert second.customer_id == first.customer_id
    eventually(lambda: messages_of(channel_to, first.customer_id))
    time.sleep(1.5)  # give a wrongly duplicated firing time to show up
    assert len(messages_of(channel_to, first.customer_id)) == 1


@pytest.mark.parametrize("victim", ["scenario", "dispatch"])
def test_message_arrives_once_after_a_service_was_down(stack, channel_to, victim: str) -> None:
    stack.stop(victim, sig=signal.SIGKILL)  # a crash, not a clean stop
    result = ingest(channel_to, signup(email=f"{victim}.{uuid.uuid4().hex[:6]}@example.com"))
    assert result.status == ingest_pb2.EVENT_STATUS_ACCEPTED
    time.sleep(2)
    if victim == "dispatch":
        with pytest.raises(Exception):  # noqa: B017 - dispatch is down: nothing can be listed, nothing sent
            messages_of(channel_to, result.customer_id)
    stack.start(victim)
    stack.wait_serving((victim,))
    [message] = eventually(lambda: messages_of(channel_to, result.customer_id), timeout=45)
    assert message.scenario_id == "welcome"
    time.sleep(1.5)
    assert len(messages_of(channel_to, result.customer_id)) == 1


def test_call_center_token_reads_profiles_but_cannot_ingest(stack) -> None:
    from declic.kit.channels import make_channel
    from tests.e2e.conftest import CALL_CENTER_TOKEN

    with pytest.raises(grpc.RpcError) as caught:
        ingest_pb2_grpc.IngestServiceStub(make_channel(stack.address("ingest"), CALL_CENTER_TOKEN)).IngestEvent(
            ingest_pb2.IngestEventRequest(event=signup(email="cc@example.com")), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        profile_pb2_grpc.ProfileServiceStub(make_channel(stack.address("profile"), CALL_CENTER_TOKEN)).GetProfile(
            profile_pb2.GetProfileRequest(customer_id="nobody"), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # authorised; simply unknown
