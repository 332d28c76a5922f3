"""Framed payloads: many records in one outbox row or stream entry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declic.kit.framing import frame, unframe, varint


@settings(max_examples=200, deadline=None)
@given(records=st.lists(st.binary(max_size=20_000), max_size=20))
def test_framed_records_come_back_unchanged_and_in_order(records) -> None:  # noqa: ANN001
    assert unframe(frame(records)) == records


def test_a_frame_is_each_record_after_its_varint_length() -> None:
    assert frame([b"ab", b"", b"x" * 300]) == b"\x02ab" + b"\x00" + b"\xac\x02" + b"x" * 300


def test_varints_above_the_table_are_encoded_too() -> None:
    assert varint(16383) == b"\xff\x7f"
    assert varint(16384) == b"\x80\x80\x01"
    assert unframe(frame([b"y" * 70_000])) == [b"y" * 70_000]


@pytest.mark.parametrize("payload", [frame([b"abc"])[:-1], b"\x80", frame([b"x" * 300])[:1]])
def test_a_payload_cut_short_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError, match="cut short"):
        unframe(payload)
