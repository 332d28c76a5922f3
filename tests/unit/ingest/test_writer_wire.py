"""What crosses the pipe to the writer process: the writer must get what it reads, and answers must come back
whole (the writer process itself: tests/integration/ingest/test_writer_process.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit.errors import InvalidArgument, Unavailable
from declic.kit.protoconv import to_timestamp
from services.ingest.validation import EventValidator
from services.ingest.writer import wire
from services.ingest.writer.calls import Outcome, Submission

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _events() -> list[event_pb2.Event]:
    when = to_timestamp(NOW - timedelta(minutes=5))
    email = identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value="Ann@Example.com")
    line = event_pb2.OrderLine(product_id="p1", quantity=2, unit_price=money_pb2.Money(currency_code="EUR", units=3))
    return [
        event_pb2.Event(event_id="o1", source="web", event_time=when, identifiers=[email],
                        order=event_pb2.Order(order_id="o1", channel=event_pb2.ORDER_CHANNEL_ONLINE, lines=[line])),
        event_pb2.Event(event_id="bad", source="web", event_time=when, identifiers=[email],
                        order=event_pb2.Order(order_id="o2", lines=[event_pb2.OrderLine(product_id="p1")])),
        event_pb2.Event(event_id="u1", source="erp", event_time=when,
                        product_upsert=event_pb2.ProductUpsert(product_id="p1", name="Tea", category="drinks")),
    ]


def test_the_writer_gets_every_field_it_reads() -> None:
    validator = EventValidator("FR", timedelta(minutes=5))
    validated = [validator.validate(i, e, NOW) for i, e in enumerate(_events())]
    sent = Submission(validated, NOW, {"traceparent": "00-abc-def-01"})
    call_id, received = wire.decode_submission(wire.encode_submission(41, sent))
    assert call_id == 41
    assert (received.received_at, received.trace_context) == (NOW, sent.trace_context)
    fields = ("index", "key", "kind", "identifiers", "event_time", "product_ids", "warnings", "payload", "errors")
    refused = ("index", "key", "errors")  # all the writer reads of a refused event (its answer and the stats)
    for before, after in zip(validated, received.events, strict=True):
        read = refused if before.errors else fields
        assert {f: getattr(after, f) for f in read} == {f: getattr(before, f) for f in read}
    assert [bool(e.errors) for e in received.events] == [False, True, False]
    # The catalogue change is the one message the writer reads itself.
    assert received.events[2].event.product_upsert.name == "Tea"


def test_answers_come_back_whole() -> None:
    outcomes = [Outcome("accepted", "c1", True, [], ["unknown_product:p9"]), Outcome("duplicate", "c1"),
                Outcome("rejected", errors=[("order.lines[0].quantity", "must be > 0")])]
    call_id, back = wire.decode_answer(wire.encode_outcomes(7, outcomes))
    assert call_id == 7
    assert back == [Outcome(o.status, o.customer_id, o.new_customer, o.errors, o.warnings) for o in outcomes]


def test_a_failed_transaction_comes_back_as_a_status() -> None:
    _, kept = wire.decode_answer(wire.encode_failure(3, InvalidArgument.field("events", "too many")))
    assert isinstance(kept, InvalidArgument) and "too many" in str(kept.to_status())
    _, other = wire.decode_answer(wire.encode_failure(4, RuntimeError("connection reset")))
    assert isinstance(other, Unavailable) and "RuntimeError" in str(other)
