"""Ingest's API against the real database and Redis: per-event answers, limits, duplicates, catalogue, stats."""

from __future__ import annotations

import threading
from datetime import timedelta

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from declic.common.v1 import event_pb2, money_pb2
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.protoconv import to_datetime
from tests.integration.ingest.conftest import order

ACCEPTED, DUPLICATE, REJECTED = (ingest_pb2.EVENT_STATUS_ACCEPTED, ingest_pb2.EVENT_STATUS_DUPLICATE,
                                 ingest_pb2.EVENT_STATUS_REJECTED)


def batch(*events: event_pb2.Event) -> ingest_pb2.IngestBatchRequest:
    return ingest_pb2.IngestBatchRequest(events=list(events))


def violations(error: grpc.RpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    return {v.field: v.description for v in bad_request.field_violations}


def test_a_mixed_batch_is_answered_per_event(ingest, make, handoff) -> None:
    bad_order = order("o-2", ("p1", 1, 5), ("p2", 0, 5))
    response = ingest.IngestBatch(batch(
        make("e1", email="Ann@Example.com", page_view=event_pb2.PageView(url="https://shop.example.com/a")),
        make("e2", email="bob@example.com", order=bad_order),
        make("e3", email="not an email"),
        make("e4", phone="06 12 34 56 78", order=order("o-4", ("p1", 2, 5))),
    ))
    assert [r.status for r in response.results] == [ACCEPTED, REJECTED, REJECTED, ACCEPTED]
    assert (response.accepted, response.duplicates, response.rejected) == (2, 0, 2)
    assert [(e.field, e.description) for e in response.results[1].errors] == [
        ("events[1].order.lines[1].quantity", "must be > 0")]
    assert response.results[2].errors[0].field == "events[2].identifiers[0].value"
    assert response.results[3].warnings == ["unknown_product:p1"]
    accepted = handoff.wait_for(2)
    assert [r.record_id for r in accepted] == ["evt:webshop:e1", "evt:webshop:e4"]
    assert accepted[0].accepted_event.event.identifiers[0].value == "ann@example.com"
    assert accepted[1].accepted_event.event.identifiers[0].value == "+33612345678"
    assert accepted[0].accepted_event.new_customer and accepted[1].accepted_event.new_customer
    assert accepted[1].accepted_event.warnings == ["unknown_product:p1"]


def test_oversized_or_malformed_requests_store_nothing(ingest, make, handoff) -> None:
    too_many = batch(*[make(f"e{n}", email="a@example.com") for n in range(1001)])
    with pytest.raises(grpc.RpcError) as caught:
        ingest.IngestBatch(too_many)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == {"events": "at most 1000 per request (got 1001)"}
    huge = make("big", email="a@example.com", page_view=event_pb2.PageView(url="https://x.fr/" + "a" * 4000))
    huge.context.update({f"k{n}": "v" * 4000 for n in range(40)})
    with pytest.raises(grpc.RpcError) as caught:
        ingest.IngestBatch(batch(*[huge] * 30))
    assert "at most 4194304 bytes" in violations(caught.value)["events"]
    for empty in (lambda: ingest.IngestBatch(batch()), lambda: ingest.IngestEvent(ingest_pb2.IngestEventRequest())):
        with pytest.raises(grpc.RpcError) as caught:
            empty()
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest()).rows == []
    assert handoff.records() == []


def test_single_event_rejection_is_an_answer_not_an_error(ingest, make) -> None:
    result = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=make("e1", email="x@@y"))).result
    assert result.status == REJECTED and result.errors[0].field == "event.identifiers[0].value"


def test_duplicates_immediately_in_batch_and_a_month_later(ingest, make, clock, handoff) -> None:
    first = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=make("e1", email="ann@example.com"))).result
    again = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=make("e1", email="ann@example.com"))).result
    assert (first.status, again.status) == (ACCEPTED, DUPLICATE)
    assert again.customer_id == first.customer_id
    twice = ingest.IngestBatch(batch(make("e2", email="bob@example.com"), make("e2", email="bob@example.com")))
    assert [r.status for r in twice.results] == [ACCEPTED, DUPLICATE]
    assert twice.results[1].customer_id == twice.results[0].customer_id
    clock.advance(timedelta(days=31))
    later = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=make("e1", email="other@example.com"))).result
    assert later.status == DUPLICATE and later.customer_id == first.customer_id
    same_id_other_source = make("e1", source="pos", email="ann@example.com")
    assert ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=same_id_other_source)).result.status == ACCEPTED
    assert [r.record_id for r in handoff.wait_for(3)] == ["evt:webshop:e1", "evt:webshop:e2", "evt:pos:e1"]


def test_concurrent_copies_of_a_batch_are_applied_once(ingest, make, handoff) -> None:
    request = batch(*[make(f"e{n}", email=f"c{n % 7}@example.com", anonymous_id=f"a{n}") for n in range(60)])
    answers: list[ingest_pb2.IngestBatchResponse] = []

    def send() -> None:
        answers.append(ingest.IngestBatch(request))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.accepted for a in answers) == [0, 0, 0, 0, 0, 60]
    assert all(a.duplicates == 60 for a in answers if a.accepted == 0)
    customers = {tuple(r.customer_id for r in a.results) for a in answers}
    assert len(customers) == 1 and len(set(next(iter(customers)))) == 7
    records = handoff.wait_for(60)
    assert sorted(r.record_id for r in records) == sorted(f"evt:webshop:e{n}" for n in range(60))


def test_duplicates_survive_a_restart(start_service, clock, make) -> None:
    running, channel = start_service("ingest", clock=clock)
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    first = stub.IngestEvent(ingest_pb2.IngestEventRequest(event=make("e1", email="ann@example.com"))).result
    running.stop(grace=0.5)
    _, channel = start_service("ingest", clock=clock)
    again = ingest_pb2_grpc.IngestServiceStub(channel).IngestEvent(
        ingest_pb2.IngestEventRequest(event=make("e1", email="ann@example.com"))).result
    assert again.status == DUPLICATE and again.customer_id == first.customer_id


def test_event_time_is_kept_apart_from_receive_time(ingest, make, clock, handoff) -> None:
    late = make("late", email="ann@example.com", age=timedelta(days=40))
    future = make("future", email="ann@example.com", age=-timedelta(hours=1))
    response = ingest.IngestBatch(batch(late, future))
    assert [r.status for r in response.results] == [ACCEPTED, REJECTED]
    assert response.results[1].errors[0].field == "events[1].event_time"
    [record] = handoff.wait_for(1)
    assert to_datetime(record.accepted_event.received_at) == clock.now()
    assert to_datetime(record.accepted_event.event.event_time) == clock.now() - timedelta(days=40)


def test_catalogue_makes_products_known_and_is_handed_off(ingest, make, clock, handoff) -> None:
    products = [event_pb2.ProductUpsert(product_id="p1", name="Kibble 2 kg", category="dog",
                                        price=money_pb2.Money(currency_code="EUR", units=12)),
                event_pb2.ProductUpsert(product_id="p2")]
    upserted = ingest.UpsertProducts(ingest_pb2.UpsertProductsRequest(source="erp", products=products))
    assert [r.status for r in upserted.results] == [ACCEPTED, REJECTED]
    assert upserted.results[1].errors[0].field == "products[1].name"
    replay = ingest.UpsertProducts(ingest_pb2.UpsertProductsRequest(source="erp", products=products[:1]))
    assert replay.results[0].status == DUPLICATE
    bought = ingest.IngestEvent(ingest_pb2.IngestEventRequest(
        event=make("o1", email="ann@example.com", order=order("o1", ("p1", 1, 12), ("p9", 1, 3))))).result
    assert bought.status == ACCEPTED and list(bought.warnings) == ["unknown_product:p9"]
    records = handoff.wait_for(2)
    assert records[0].accepted_event.event.product_upsert.name == "Kibble 2 kg"
    assert records[0].accepted_event.customer_id == ""
    with pytest.raises(grpc.RpcError) as caught:
        ingest.UpsertProducts(ingest_pb2.UpsertProductsRequest(source="", products=products))
    assert violations(caught.value) == {"source": "is required"}


def test_stats_count_by_source_status_and_reason(ingest, make) -> None:
    ingest.IngestBatch(batch(
        make("e1", email="a@example.com"),
        make("e1", email="a@example.com"),
        make("e2", email="bad"),
        make("e3", email="bad too"),
        make("e4", source="pos", email="b@example.com", order=order("o", ("p", 0, 1))),
    ))
    rows = ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest()).rows
    assert {(r.source, r.status, r.reason, r.count) for r in rows} == {
        ("webshop", ACCEPTED, "", 1),
        ("webshop", DUPLICATE, "", 1),
        ("webshop", REJECTED, "identifiers[].value: is not a valid e-mail address", 2),
        ("pos", REJECTED, "order.lines[].quantity: must be > 0", 1),
    }
    only_pos = ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest(source="pos")).rows
    assert [r.source for r in only_pos] == ["pos"]
