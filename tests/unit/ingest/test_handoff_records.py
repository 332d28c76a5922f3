"""Hand-off records: stable ids, and the hand-encoded accepted events equal what protobuf produces."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import to_timestamp
from services.ingest import handoff

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=200, deadline=None)
@given(event_id=text, source=text, customer_id=text, new_customer=st.booleans(), warnings=st.lists(text, max_size=3),
       url=text, nanos=st.integers(0, 999_999_999), seconds=st.integers(0, 4_000_000_000),
       trace=st.dictionaries(st.sampled_from(["traceparent", "tracestate"]), text))
def test_hand_encoded_records_are_the_protobuf_bytes(event_id, source, customer_id, new_customer, warnings, url,
                                                    nanos, seconds, trace) -> None:  # noqa: ANN001
    received = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    email = identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value="a@b.c")
    event = event_pb2.Event(event_id=event_id, source=source, page_view=event_pb2.PageView(url=url),
                            identifiers=[email])
    expected = handoff_pb2.HandoffRecord(
        record_id=f"evt:{source}:{event_id}", recorded_at=to_timestamp(received), trace_context=trace,
        accepted_event=handoff_pb2.AcceptedEvent(event=event, customer_id=customer_id,
                                                 received_at=to_timestamp(received), new_customer=new_customer,
                                                 warnings=warnings),
    )
    encoder = handoff.AcceptedEventEncoder(received, trace)
    encoded = encoder.encode(source, event_id, event.SerializeToString(), customer_id, new_customer, warnings)
    assert handoff_pb2.HandoffRecord.FromString(encoded) == expected
    assert encoded == expected.SerializeToString(deterministic=True)


def test_record_ids_are_stable() -> None:
    assert handoff.event_record_id("pos", "t-1") == "evt:pos:t-1"
    assert handoff.merge_record_id("s", ["b", "a"]) == handoff.merge_record_id("s", ["a", "b"]) == "merge:s:a+b"
    assert handoff.split_record_id("a", "b") == "split:a:b"


@settings(max_examples=200, deadline=None)
@given(records=st.lists(st.binary(max_size=20_000), max_size=20))
def test_framed_records_come_back_unchanged_and_in_order(records) -> None:  # noqa: ANN001
    assert handoff.unframe(handoff.frame(records)) == records


def test_a_frame_is_each_record_after_its_varint_length() -> None:
    assert handoff.frame([b"ab", b"", b"x" * 300]) == b"\x02ab" + b"\x00" + b"\xac\x02" + b"x" * 300
