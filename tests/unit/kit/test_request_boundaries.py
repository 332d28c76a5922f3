"""The door's limits are inclusive where documented, reported without the values, and undecodable requests are
logged once per burst."""

from __future__ import annotations

import logging
import math
import time

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit import request_validation
from declic.kit.errors import InvalidArgument
from declic.kit.request_validation import limits
from declic.kit.request_validation.undecodable import UNDECODABLE, BurstLog, tolerant
from declic.profile.v1 import profile_pb2


def seconds(moment) -> int:  # type: ignore[no-untyped-def]
    return int(moment.timestamp())


def test_values_at_the_limits_pass_and_one_past_them_fail() -> None:
    at_limit = event_pb2.Event(
        event_id="e" * limits.MAX_STRING_CHARS, event_time=Timestamp(seconds=seconds(limits.EARLIEST_TIME)),
        context={f"k{n}": "v" for n in range(limits.MAX_ITEMS)},
        page_view=event_pb2.PageView(url="u" * 4_096),
        identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL)] * limits.MAX_ITEMS,
    )
    assert request_validation.violations(at_limit) == []
    at_limit.event_time.seconds = seconds(limits.LATEST_TIME) - 1
    at_limit.event_time.nanos = 999_999_999
    assert request_validation.violations(at_limit) == []
    past = event_pb2.Event(event_id="e" * (limits.MAX_STRING_CHARS + 1),
                           event_time=Timestamp(seconds=seconds(limits.LATEST_TIME)),
                           page_view=event_pb2.PageView(url="u" * 4_097))
    assert request_validation.violations(past) == [
        ("event_id", "must be at most 1,024 characters"),
        ("event_time", "must be from 1900-01-01 to before 2200-01-01 (UTC)"),
        ("page_view.url", "must be at most 4,096 characters"),
    ]


def test_unknown_enum_values_money_signs_and_non_finite_numbers() -> None:
    event = event_pb2.Event(identify=event_pb2.Identify(consents=[
        identity_pb2.Consent(channel=identity_pb2.CHANNEL_EMAIL, state=999, legal_basis=999),
        identity_pb2.Consent(),
    ]), order=None)
    assert request_validation.violations(event) == [
        ("identify.consents[0].state", "999 is not a known ConsentState"),
        ("identify.consents[0].legal_basis", "999 is not a known LegalBasis"),
    ]  # the zero values of the second consent are ingest's to judge (it answers "is required")
    line = event_pb2.OrderLine(unit_price=money_pb2.Money(currency_code="EUR", units=1, nanos=-5))
    assert request_validation.violations(event_pb2.Event(order=event_pb2.Order(lines=[line]))) == [
        ("order.lines[0].unit_price.nanos", "must be within ±999,999,999 and of the same sign as units")]
    condition = profile_pb2.SegmentCondition(field=1, comparison=1, value=math.nan)
    assert request_validation.violations(condition) == [("value", "must be a finite number")]


def test_a_request_reports_at_most_the_documented_number_of_violations() -> None:
    request = profile_pb2.QuerySegmentRequest(segment=profile_pb2.Segment(
        conditions=[profile_pb2.SegmentCondition(field=999, comparison=999)] * 50))
    with pytest.raises(InvalidArgument) as caught:
        request_validation.check_request(request)
    assert len(caught.value.violations) == limits.MAX_VIOLATIONS
    assert caught.value.violations[0] == ("segment.conditions[0].field", "999 is not a known SegmentField")
    assert caught.value.message.startswith("100 violations: segment.conditions[0].field: 999 is not a known")


def test_a_list_past_its_bound_is_reported_once_and_not_walked() -> None:
    order = event_pb2.Order(lines=[event_pb2.OrderLine(product_id="x" * 2_000)] * 1_001)
    assert request_validation.violations(order) == [("lines", "must have at most 1,000 items")]


def test_undecodable_bytes_become_the_marker() -> None:
    decode = tolerant(event_pb2.Event.FromString)
    assert decode(b"\x0a\x02\xff\xfe") is UNDECODABLE  # event_id, not UTF-8
    assert decode(b"\xff\xff\xff") is UNDECODABLE
    assert decode(event_pb2.Event(event_id="e1").SerializeToString()).event_id == "e1"
    assert tolerant(None) is None


def test_a_burst_is_logged_once_then_counted_per_window(caplog: pytest.LogCaptureFixture) -> None:
    burst = BurstLog("ingest", logging.getLogger("test.burst"), window=0.2)
    with caplog.at_level(logging.WARNING, logger="test.burst"):
        for _ in range(500):
            burst.note("/declic.ingest.v1.IngestService/IngestBatch")
        assert len(caplog.records) == 1
        time.sleep(0.5)
    assert [r.getMessage() for r in caplog.records] == [
        "ingest: undecodable request to IngestBatch (answered INVALID_ARGUMENT; more are counted for 0.2 s)",
        "ingest: 499 undecodable requests to IngestBatch in the last 0.2 s",
    ]


def test_money_has_only_the_fields_its_own_check_reads() -> None:
    assert [field.name for field in money_pb2.Money.DESCRIPTOR.fields] == ["currency_code", "units", "nanos"]
