"""The door against a real profile: unknown enums, out-of-range times, non-finite numbers and over-long text are
INVALID_ARGUMENT naming the field (not INTERNAL); undecodable bytes too, logged once per burst."""

from __future__ import annotations

import logging
import math

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from declic.common.v1 import identity_pb2
from declic.profile.v1 import profile_pb2
from tests.integration.ingest.test_api import violations
from tests.integration.profile.conftest import START
from tests.integration.profile.records import ident, identify

YEAR_1 = -62135596800
EMAIL = identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value="ann@example.com")


def refused(call, request) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The field violations of a call that must be INVALID_ARGUMENT (streams are read to the end)."""
    with pytest.raises(grpc.RpcError) as caught:
        answer = call(request)
        if hasattr(answer, "__iter__") and not hasattr(answer, "ListFields"):
            list(answer)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    return violations(caught.value)


def test_bad_lookups_and_times_are_invalid_argument_naming_the_field(profile) -> None:
    stub, publish = profile
    publish([identify("c-ann", START, [ident("email", "ann@example.com")], first_name="Ann")])
    assert stub.LookupProfile(profile_pb2.LookupProfileRequest(identifier=EMAIL)).profile.first_name == "Ann"

    unknown_type = identity_pb2.Identifier(type=999, value="ann@example.com")
    assert refused(stub.LookupProfile, profile_pb2.LookupProfileRequest(identifier=unknown_type)) == {
        "identifier.type": "999 is not a known IdentifierType"}
    assert list(refused(stub.LookupProfile, profile_pb2.LookupProfileRequest(
        identifier=EMAIL, as_of=Timestamp(seconds=YEAR_1)))) == ["as_of"]
    assert list(refused(stub.GetProfile, profile_pb2.GetProfileRequest(
        customer_id="c-ann", as_of=Timestamp(seconds=2**62)))) == ["as_of"]
    assert refused(stub.GetProfile, profile_pb2.GetProfileRequest(customer_id="c" * 100_000)) == {
        "customer_id": "must be at most 1,024 characters"}


def test_bad_segments_are_invalid_argument_before_any_query(profile) -> None:
    stub, _ = profile
    condition = profile_pb2.SegmentCondition(field=999, comparison=profile_pb2.COMPARISON_LESS, value=math.nan)
    request = profile_pb2.QuerySegmentRequest(segment=profile_pb2.Segment(conditions=[condition]))
    assert refused(stub.QuerySegment, request) == {
        "segment.conditions[0].field": "999 is not a known SegmentField",
        "segment.conditions[0].value": "must be a finite number",
    }


def test_undecodable_lookups_are_invalid_argument_and_logged_once(start_service, clock, caplog) -> None:
    _, channel = start_service("profile", clock=clock)
    call = channel.unary_unary("/declic.profile.v1.ProfileService/LookupProfile")
    not_utf8 = b"\x0a\x04\x12\x02\xff\xfe"  # identifier.value
    with caplog.at_level(logging.WARNING):
        for data in [not_utf8, b"\xff" * 10, b"\x0a\x10\x08"] * 50:
            with pytest.raises(grpc.RpcError) as caught:
                call(data, timeout=5)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    about_it = [r.getMessage().split(" (")[0] for r in caplog.records if "undecodable" in r.getMessage()]
    assert about_it == ["profile: undecodable request to LookupProfile"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
