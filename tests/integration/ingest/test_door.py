"""The door against a real ingest: whatever one event holds (unknown enums, out-of-range Timestamps, huge text),
it is REJECTED naming the field and the others are stored; requests that break a rule or do not decode are
INVALID_ARGUMENT, store nothing, and are logged once per burst, never with a traceback."""

from __future__ import annotations

import logging

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from tests.integration.ingest.conftest import order
from tests.integration.ingest.test_api import ACCEPTED, REJECTED, violations

FAR = 2**62
MIB = "x" * (1 << 20)


def consent(**fields: object) -> event_pb2.Identify:
    values = {"channel": identity_pb2.CHANNEL_EMAIL, "state": identity_pb2.CONSENT_STATE_GRANTED, **fields}
    return event_pb2.Identify(consents=[identity_pb2.Consent(**values)])


POISON = {  # what the event carries → the field its rejection names
    "event_time_far_future": ({"event_time": Timestamp(seconds=FAR)}, "event_time"),
    "event_time_far_past": ({"event_time": Timestamp(seconds=-FAR)}, "event_time"),
    "consent_channel": ({"identify": consent(channel=999)}, "identify.consents[0].channel"),
    "consent_legal_basis": ({"identify": consent(legal_basis=999)}, "identify.consents[0].legal_basis"),
    "consent_state": ({"identify": consent(state=999)}, "identify.consents[0].state"),
    "consent_time": ({"identify": consent(time=Timestamp(seconds=FAR))}, "identify.consents[0].time"),
    "consent_nanos": ({"identify": consent(time=Timestamp(seconds=1, nanos=-1))}, "identify.consents[0].time.nanos"),
    "order_channel": ({"order": event_pb2.Order(order_id="o", channel=999)}, "order.channel"),
    "order_kind": ({"order": event_pb2.Order(order_id="o", kind=999)}, "order.kind"),
    "cart_action": ({"cart_change": event_pb2.CartChange(cart_id="c", action=999)}, "cart_change.action"),
    "engagement_kind": ({"message_engagement": event_pb2.MessageEngagement(
        message_id="m", channel=identity_pb2.CHANNEL_EMAIL, kind=999)}, "message_engagement.kind"),
    "first_name_1_mib": ({"identify": event_pb2.Identify(first_name=MIB)}, "identify.first_name"),
}


def test_poison_events_are_rejected_one_by_one_and_the_good_ones_stored(ingest, make, handoff) -> None:
    events = [make("good-1", email="ann@example.com")]
    for name, (fields, _) in POISON.items():
        event = make(name, email="bob@example.com")
        for field, value in fields.items():
            getattr(event, field).CopyFrom(value)
        events.append(event)
    events.append(make("good-2", email="cy@example.com", order=order("o-1", ("p1", 1, 5))))

    response = ingest.IngestBatch(ingest_pb2.IngestBatchRequest(events=events))

    assert [r.status for r in response.results] == [ACCEPTED, *[REJECTED] * len(POISON), ACCEPTED]
    for index, (_, expected) in enumerate(POISON.values(), start=1):
        errors = response.results[index].errors
        assert [e.field for e in errors] == [f"events[{index}].{expected}"]
        assert len(errors[0].description) < 80  # names the limit, never echoes the value
    stored = handoff.wait_for(2)
    assert [r.record_id for r in stored] == ["evt:webshop:good-1", "evt:webshop:good-2"]
    assert len(handoff.wait_for(3, timeout=0.5)) == 2


def test_a_single_poison_event_is_rejected_in_its_answer(ingest, make) -> None:
    event = make("e1", email="ann@example.com")
    event.event_time.seconds = FAR
    result = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=event)).result
    assert result.status == REJECTED
    assert [e.field for e in result.errors] == ["event.event_time"]


def test_products_are_answered_one_by_one_and_their_time_checked_at_the_door(ingest, handoff) -> None:
    products = [event_pb2.ProductUpsert(product_id="p1", name="Kibble"),
                event_pb2.ProductUpsert(product_id="p2", name=MIB),
                event_pb2.ProductUpsert(product_id="p3", name="Leash",
                                        price={"currency_code": "EUR", "nanos": 2_000_000_000})]
    response = ingest.UpsertProducts(ingest_pb2.UpsertProductsRequest(source="erp", products=products))
    assert [r.status for r in response.results] == [ACCEPTED, REJECTED, REJECTED]
    assert [e.field for e in response.results[1].errors] == ["products[1].name"]
    assert [e.field for e in response.results[2].errors] == ["products[2].price.nanos"]
    assert len(handoff.wait_for(1)) == 1

    with pytest.raises(grpc.RpcError) as caught:
        ingest.UpsertProducts(ingest_pb2.UpsertProductsRequest(
            source="erp", products=products[:1], updated_at=Timestamp(seconds=-62135596800)))  # year 1
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(violations(caught.value)) == ["updated_at"]
    assert len(handoff.wait_for(2, timeout=0.5)) == 1


def test_a_request_breaking_a_limit_is_invalid_argument_without_the_value(ingest) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest(source=MIB))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == {"source": "must be at most 1,024 characters"}
    assert "xxxx" not in (caught.value.details() or "")


UNDECODABLE = {
    "not UTF-8": b"\x0a\x04\x0a\x02\xff\xfe",  # events[0].event_id
    "random": bytes(range(255, 0, -7)),
    "truncated": ingest_pb2.IngestBatchRequest(events=[event_pb2.Event(event_id="e1")]).SerializeToString()[:-2],
}


def test_undecodable_bytes_are_invalid_argument_and_logged_once(start_service, handoff, clock, caplog) -> None:
    _, channel = start_service("ingest", clock=clock)
    call = channel.unary_unary("/declic.ingest.v1.IngestService/IngestBatch")
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            for data in UNDECODABLE.values():
                with pytest.raises(grpc.RpcError) as caught:
                    call(data, timeout=5)
                assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        ingest = ingest_pb2_grpc.IngestServiceStub(channel)
        assert ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest()).rows == []  # the server still answers
    about_it = [r for r in caplog.records if "undecodable" in r.getMessage() or "deserializ" in r.getMessage()]
    assert [(r.levelname, r.getMessage().split(" (")[0]) for r in about_it] == [
        ("WARNING", "ingest: undecodable request to IngestBatch")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert handoff.records() == []
