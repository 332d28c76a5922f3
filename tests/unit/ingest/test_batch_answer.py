"""The hand-written IngestBatchResponse is byte for byte what protobuf writes for the same results."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from declic.ingest.v1 import ingest_pb2
from services.ingest.grpc_api import _answer, batch_answer
from services.ingest.writer.calls import ACCEPTED, DUPLICATE, REJECTED, Outcome

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
outcomes = st.builds(
    Outcome, status=st.sampled_from([ACCEPTED, DUPLICATE, REJECTED]), customer_id=text,
    errors=st.lists(st.tuples(text, text), max_size=3), warnings=st.lists(text, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(answers=st.lists(st.tuples(text, outcomes), max_size=200))
def test_the_hand_written_answer_is_the_protobuf_bytes(answers) -> None:  # noqa: ANN001
    ids, results = [event_id for event_id, _ in answers], [outcome for _, outcome in answers]
    expected = _answer(ingest_pb2.IngestBatchResponse(), ids, results, "events")
    written = batch_answer(ids, results, "events")
    assert ingest_pb2.IngestBatchResponse.FromString(written) == expected
    assert written == expected.SerializeToString(deterministic=True)


def test_long_fields_have_multi_byte_lengths_as_protobuf_writes_them() -> None:
    outcomes = [Outcome(ACCEPTED, customer_id="c" * 20_000, warnings=["w" * 70_000]), Outcome(REJECTED, errors=[
        ("event_id", "x" * 17_000)])]
    ids = ["e" * 16_384, ""]
    expected = _answer(ingest_pb2.IngestBatchResponse(), ids, outcomes, "events")
    assert batch_answer(ids, outcomes, "events") == expected.SerializeToString(deterministic=True)
