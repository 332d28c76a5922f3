"""Identity reconciliation through the API: merges, guard rails, split, anonymous → known, erasure."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2, ingest_pb2, ingest_pb2_grpc
from declic.kit.identifiers import identifier_hash
from declic.kit.protoconv import to_timestamp
from declic.kit.stream import StreamPublisher, stream_key
from tests.integration.ingest.conftest import eventually

ACCEPTED, REJECTED = ingest_pb2.EVENT_STATUS_ACCEPTED, ingest_pb2.EVENT_STATUS_REJECTED
EMAIL, CARD = identity_pb2.IDENTIFIER_TYPE_EMAIL, identity_pb2.IDENTIFIER_TYPE_LOYALTY_CARD


def send(ingest, event: event_pb2.Event) -> ingest_pb2.EventResult:
    return ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=event)).result


def identity(ingest, **by: object) -> tuple[str, set[tuple[int, str]]]:
    if "customer_id" in by:
        request = ingest_pb2.GetCustomerIdentityRequest(customer_id=str(by["customer_id"]))
    else:
        [(kind, value)] = by.items()
        request = ingest_pb2.GetCustomerIdentityRequest(
            identifier=identity_pb2.Identifier(type=identity_pb2.IdentifierType.Value(kind), value=str(value)))
    response = ingest.GetCustomerIdentity(request)
    return response.customer_id, {(i.type, i.value) for i in response.identifiers}


def test_merge_chain_ends_in_one_customer_and_downstream_is_told(ingest, make, clock, handoff) -> None:
    a = send(ingest, make("e1", email="a@example.com")).customer_id
    clock.advance(timedelta(seconds=1))
    b = send(ingest, make("e2", loyalty_card="B-1")).customer_id
    clock.advance(timedelta(seconds=1))
    c = send(ingest, make("e3", phone="+33611111111")).customer_id
    assert len({a, b, c}) == 3
    assert send(ingest, make("e4", email="a@example.com", loyalty_card="b-1")).customer_id == a
    clock.advance(timedelta(seconds=1))
    assert send(ingest, make("e5", loyalty_card="B-1", phone="0611111111")).customer_id == a
    survivor, identifiers = identity(ingest, customer_id=c)
    assert survivor == a
    assert identifiers == {(EMAIL, "a@example.com"), (CARD, "B-1"), (identity_pb2.IDENTIFIER_TYPE_PHONE,
                                                                      "+33611111111")}
    assert identity(ingest, IDENTIFIER_TYPE_PHONE="06 11 11 11 11")[0] == a
    handoff.wait_for(7)
    merges = handoff.of("customers_merged")
    assert [(m.survivor_id, list(m.merged_ids), m.cause_event_id) for m in merges] == [(a, [b], "e4"), (a, [c], "e5")]
    order = [r.record_id.split(":")[0] for r in handoff.records()]
    assert order == ["evt", "evt", "evt", "merge", "evt", "merge", "evt"]  # a merge precedes the event it explains
    audit = ingest.ListIdentityAudit(ingest_pb2.ListIdentityAuditRequest(customer_id=a))
    assert [list(m.merged_ids) for m in audit.merges] == [[c], [b]]


def test_anonymous_history_attaches_when_the_visitor_identifies(ingest, make, handoff) -> None:
    browsing = [send(ingest, make(f"view{n}", anonymous_id="cookie-1")) for n in range(3)]
    assert browsing[0].customer_id == browsing[2].customer_id
    signup = send(ingest, make("signup", anonymous_id="cookie-1", email="ann@example.com",
                               identify=event_pb2.Identify(first_name="Ann", reason="account_created")))
    assert signup.customer_id == browsing[0].customer_id
    records = handoff.wait_for(4)
    assert [r.accepted_event.new_customer for r in records] == [True, False, False, False]
    assert identity(ingest, IDENTIFIER_TYPE_EMAIL="Ann@Example.com")[0] == browsing[0].customer_id


def test_a_shared_device_is_refused_visibly(ingest, make) -> None:
    ann = send(ingest, make("e1", email="ann@example.com", device_id="family-tablet")).customer_id
    bob = send(ingest, make("e2", email="bob@example.com")).customer_id
    shared = send(ingest, make("e3", email="bob@example.com", device_id="family-tablet"))
    assert shared.status == ACCEPTED and shared.customer_id == bob != ann
    audit = ingest.ListIdentityAudit(ingest_pb2.ListIdentityAuditRequest())
    assert audit.merges == []
    assert [(r.reason, list(r.customer_ids), r.identifier_type, r.cause_event_id) for r in audit.refusals] == [
        ("weak_identifier_shared", [bob, ann], identity_pb2.IDENTIFIER_TYPE_DEVICE_ID, "e3")]
    stats = ingest.GetIngestStats(ingest_pb2.GetIngestStatsRequest())
    assert [(r.reason, r.count) for r in stats.refusals] == [("weak_identifier_shared", 1)]


def test_a_placeholder_email_cannot_merge_a_crowd(ingest, make) -> None:
    results = ingest.IngestBatch(ingest_pb2.IngestBatchRequest(events=[
        make(f"e{n}", loyalty_card=f"CARD{n}", email="client@shop.example.com") for n in range(40)
    ])).results
    customers = {r.customer_id for r in results}
    assert len(customers) >= 40 // 3
    for customer_id in customers:  # the loyalty-card limit (3) bounds what a placeholder can glue together
        assert sum(1 for kind, _ in identity(ingest, customer_id=customer_id)[1] if kind == CARD) <= 3
    blocked = send(ingest, make("x1", loyalty_card="CARDX", email="noreply@shop.example.com"))
    assert "blocklisted_identifier:email" in blocked.warnings


def test_split_undoes_a_wrong_merge_for_good(ingest, make, handoff, clock) -> None:
    ann = send(ingest, make("e1", email="ann@example.com")).customer_id
    clock.advance(timedelta(seconds=1))
    send(ingest, make("e2", loyalty_card="BOB-CARD"))
    send(ingest, make("e3", email="ann@example.com", loyalty_card="BOB-CARD"))  # the cashier swiped the wrong card
    assert identity(ingest, IDENTIFIER_TYPE_LOYALTY_CARD="BOB-CARD")[0] == ann
    split = ingest.SplitCustomer(ingest_pb2.SplitCustomerRequest(
        customer_id=ann, identifiers=[identity_pb2.Identifier(type=CARD, value="BOB-CARD")], reason="ticket 12"))
    assert split.from_customer_id == ann and split.new_customer_id != ann
    assert identity(ingest, IDENTIFIER_TYPE_LOYALTY_CARD="BOB-CARD")[0] == split.new_customer_id
    again = send(ingest, make("e4", email="ann@example.com", loyalty_card="BOB-CARD"))
    assert again.customer_id == split.new_customer_id  # the card is the stronger identifier; no merge back
    assert identity(ingest, IDENTIFIER_TYPE_EMAIL="ann@example.com")[0] == ann
    audit = ingest.ListIdentityAudit(ingest_pb2.ListIdentityAuditRequest())
    assert [s.reason for s in audit.splits] == ["ticket 12"]
    assert "split_by_operator" in [r.reason for r in audit.refusals]
    handoff.wait_for(6)
    [told] = handoff.of("customer_split")
    assert (told.from_customer_id, told.new_customer_id) == (ann, split.new_customer_id)
    assert [(i.type, i.value) for i in told.identifiers] == [(CARD, "BOB-CARD")]


def test_split_refuses_bad_requests(ingest, make) -> None:
    ann = send(ingest, make("e1", email="ann@example.com")).customer_id
    card = identity_pb2.Identifier(type=CARD, value="X")
    cases = [
        (ingest_pb2.SplitCustomerRequest(customer_id="nobody", identifiers=[card]), grpc.StatusCode.NOT_FOUND),
        (ingest_pb2.SplitCustomerRequest(customer_id=ann, identifiers=[card]), grpc.StatusCode.INVALID_ARGUMENT),
        (ingest_pb2.SplitCustomerRequest(customer_id=ann, identifiers=[
            identity_pb2.Identifier(type=EMAIL, value="ann@example.com")]), grpc.StatusCode.FAILED_PRECONDITION),
        (ingest_pb2.SplitCustomerRequest(customer_id=ann), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for request, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            ingest.SplitCustomer(request)
        assert caught.value.code() == code


def test_an_erased_person_is_not_resurrected(ingest, make, redis_client, settings, clock) -> None:
    ann = send(ingest, make("e1", email="ann@example.com", phone="0612345678")).customer_id
    erased = handoff_pb2.HandoffRecord(
        record_id=f"erase:{ann}", recorded_at=to_timestamp(clock.now()),
        customer_erased=handoff_pb2.CustomerErased(customer_id=ann, identifier_hashes=[
            identifier_hash("email", "ann@example.com"), identifier_hash("phone", "+33612345678")]),
    )
    # Profile publishes erasures on the privacy stream too (see the profile tests), which ingest reads.
    privacy = stream_key(settings.stream_prefix, "privacy")
    StreamPublisher(redis_client, privacy).publish([erased.SerializeToString()])

    def forgotten() -> bool:
        try:
            identity(ingest, customer_id=ann)
        except grpc.RpcError as error:
            return error.code() == grpc.StatusCode.NOT_FOUND
        return False

    assert eventually(forgotten)
    back = send(ingest, make("e2", email="ANN@example.com", page_view=event_pb2.PageView(url="https://x.fr/")))
    assert back.status == REJECTED
    assert [(e.field, e.description) for e in back.errors] == [
        ("event.identifiers[0].value", "belongs to an erased person (right to erasure): not accepted again")]
    assert send(ingest, make("e3", email="someone.else@example.com")).status == ACCEPTED


def test_a_replica_sees_the_merges_of_another(start_service, clock, make) -> None:
    """Each replica keeps what it learnt of the graph between its batches; another replica's change must
    make it look again (here: it would otherwise still give the merged-away customer)."""
    first = ingest_pb2_grpc.IngestServiceStub(start_service("ingest", clock=clock)[1])
    second = ingest_pb2_grpc.IngestServiceStub(start_service("ingest", clock=clock)[1])
    carol = send(first, make("e1", email="carol@example.com")).customer_id
    clock.advance(timedelta(seconds=1))
    ann = send(first, make("e2", email="ann@example.com")).customer_id
    assert send(first, make("e3", email="ann@example.com")).customer_id == ann  # known to the first replica now
    proof = send(second, make("e4", email="ann@example.com", loyalty_card="C-1", crm_id="7"))
    assert proof.customer_id == ann
    merged = send(second, make("e5", email="carol@example.com", loyalty_card="C-1"))
    assert merged.customer_id == carol  # the oldest survives
    assert send(first, make("e6", email="ann@example.com")).customer_id == carol
    assert send(first, make("e7", crm_id="7")).customer_id == carol
