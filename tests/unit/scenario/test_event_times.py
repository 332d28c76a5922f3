"""An event's time as conditions and journeys see it: the text protobuf's own conversion gives, made cheaper."""

from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from declic.scenarios.facts import instant_text


@given(st.integers(-62135596800, 253402300799), st.one_of(st.just(0), st.integers(0, 999_999_999),
                                                           st.sampled_from([999, 1000, 999_999_999])))
def test_an_instant_reads_as_protobuf_writes_it(seconds: int, nanos: int) -> None:
    assert instant_text(seconds, nanos) == Timestamp(seconds=seconds, nanos=nanos).ToDatetime(tzinfo=UTC).isoformat()


def test_a_day_change_and_the_epoch() -> None:
    assert instant_text(0, 0) == "1970-01-01T00:00:00+00:00"
    assert instant_text(1772495999, 5_000) == "2026-03-02T23:59:59.000005+00:00"
    assert instant_text(1772496000, 0) == "2026-03-03T00:00:00+00:00"
