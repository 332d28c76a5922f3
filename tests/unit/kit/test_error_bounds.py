"""Errors never carry unbounded input: quoted values are cut, messages and violations are bounded."""

from __future__ import annotations

from google.rpc import error_details_pb2

from declic.kit.errors import (
    MAX_MESSAGE_CHARS,
    MAX_VIOLATIONS,
    InvalidArgument,
    NotFound,
    quoted,
)


def test_a_long_value_is_quoted_cut() -> None:
    assert quoted("c-1") == "'c-1'"
    assert quoted("x" * 100_000) == "'" + "x" * 64 + "'…"


def test_messages_and_violations_stay_small_whatever_was_put_in() -> None:
    huge = "x" * 100_000
    assert len(NotFound(f"no customer {huge}").message) == MAX_MESSAGE_CHARS + 1
    refused = InvalidArgument("", [(f"field{n}", huge) for n in range(1000)])
    status = refused.to_status()
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    assert len(bad_request.field_violations) == MAX_VIOLATIONS
    assert status.ByteSize() < 4096  # sent in the trailers, which a client accepts up to 8 KiB
