"""Segment queries: the three reference segments, generic conditions, validation — streamed in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.protoconv import to_timestamp
from declic.profile.v1 import profile_pb2
from tests.integration.profile.conftest import START
from tests.integration.profile.records import accepted, consent, ident, identify, order

DAY = timedelta(days=1)


def _query(stub, segment: profile_pb2.Segment, as_of: datetime | None = None, batch_size: int = 0) -> list[str]:
    request = profile_pb2.QuerySegmentRequest(segment=segment, batch_size=batch_size)
    if as_of is not None:
        request.as_of.CopyFrom(to_timestamp(as_of))
    return [cid for response in stub.QuerySegment(request) for cid in response.customer_ids]


def _person(cid: str, birth_date: str = "", zone: str = "", email: bool = True, granted: bool = True) -> object:
    ids = [ident("email", f"{cid}@example.com")] if email else [ident("crm_id", cid)]
    fields = {"birth_date": birth_date} if birth_date else {}
    if zone:
        fields["timezone"] = zone
    return identify(cid, START - 400 * DAY, ids, consents=[consent("email", granted, START - 400 * DAY)], **fields)


def test_birthday_today_in_each_customers_own_timezone(profile) -> None:
    stub, publish = profile
    # 2026-03-02 23:30 UTC: already 3 March in Tokyo and Paris (00:30), still 2 March in New York.
    as_of = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    publish([
        _person("b-paris", "1990-03-03", "Europe/Paris"),
        _person("b-tokyo", "0000-03-03", "Asia/Tokyo"),
        _person("b-ny", "1985-03-02", "America/New_York"),
        _person("b-ny-wrong-day", "1985-03-03", "America/New_York"),
        _person("b-paris-no-consent", "1990-03-03", "Europe/Paris", granted=False),
        _person("b-default-zone", "1970-03-03"),  # default zone Europe/Paris
        _person("b-leap", "2000-02-29", "Europe/Paris"),
    ])
    birthday = profile_pb2.Segment(birthday_today=profile_pb2.BirthdayToday(),
                                   contactable_on=[identity_pb2.CHANNEL_EMAIL])
    assert sorted(_query(stub, birthday, as_of)) == ["b-default-zone", "b-ny", "b-paris", "b-tokyo"]
    # 29 February birthdays are celebrated on 28 February in other years.
    assert _query(stub, birthday, datetime(2027, 2, 28, 12, tzinfo=UTC)) == ["b-leap"]
    without_contactability = profile_pb2.Segment(birthday_today=profile_pb2.BirthdayToday())
    assert "b-paris-no-consent" in _query(stub, without_contactability, as_of)


def test_last_order_containing_a_category_days_ago_with_pack_size_delay(profile) -> None:
    stub, publish = profile
    products = [
        accepted("", START - 60 * DAY, [], record_id=f"prod-{pid}", product_upsert=event_pb2.ProductUpsert(
            product_id=pid, name=pid, category="dog food", attributes={"pack_size": size}))
        for pid, size in (("kib-m", "M"), ("kib-xl", "XL"))
    ]
    publish(products + [
        _person("k-14"), _person("k-xl-14"), _person("k-xl-21"), _person("k-newer"), _person("k-toys"),
        order("k-14", START - 14 * DAY - timedelta(hours=2), "o1", [("kib-m", "", 1, 20.0)]),
        order("k-xl-14", START - 14 * DAY, "o2", [("kib-xl", "", 1, 50.0)]),
        order("k-xl-21", START - 21 * DAY - timedelta(hours=1), "o3", [("kib-xl", "", 1, 50.0)]),
        order("k-newer", START - 14 * DAY, "o4", [("kib-m", "", 1, 20.0)]),
        order("k-newer", START - 2 * DAY, "o5", [("toy", "dog toys", 1, 5.0)]),  # no longer the last order
        order("k-toys", START - 14 * DAY, "o6", [("toy", "dog toys", 1, 5.0)]),
    ])
    segment = profile_pb2.Segment(
        last_order_containing=profile_pb2.LastOrderContaining(category="dog food", days_ago=14,
                                                              days_ago_by_pack_size={"xl": 21}),
        contactable_on=[identity_pb2.CHANNEL_EMAIL])
    assert sorted(_query(stub, segment, START)) == ["k-14", "k-xl-21"]
    # The next day's run does not see them again.
    assert _query(stub, segment, START + DAY) == []


def test_repurchase_overdue_against_each_customers_own_interval(profile) -> None:
    stub, publish = profile
    records = [_person("r-monthly"), _person("r-quarterly"), _person("r-single")]
    for n in range(3):  # every 30 days, last 40 days ago → 40 > 1.2 × 30
        records.append(order("r-monthly", START - (100 - 30 * n) * DAY, f"m{n}", [("p", "x", 1, 10.0)]))
    for n in range(3):  # every 90 days, last 40 days ago → not overdue
        records.append(order("r-quarterly", START - (220 - 90 * n) * DAY, f"q{n}", [("p", "x", 1, 10.0)]))
    records.append(order("r-single", START - 400 * DAY, "s0", [("p", "x", 1, 10.0)]))
    publish(records)
    overdue = profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=1.2))
    assert _query(stub, overdue, START) == ["r-monthly"]
    # Became overdue at last + 36 days, i.e. 4 days ago: within_days=3 misses it, 5 catches it.
    assert _query(stub, profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(
        factor=1.2, within_days=3)), START) == []
    assert _query(stub, profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(
        factor=1.2, within_days=5)), START) == ["r-monthly"]
    assert sorted(_query(stub, overdue, START + 70 * DAY)) == ["r-monthly", "r-quarterly"]


def test_conditions_and_lifecycle_stages_on_computed_attributes(profile) -> None:
    stub, publish = profile
    records = [_person(f"g-{n}") for n in range(5)]
    for n in range(5):
        records += [order(f"g-{n}", START - (10 + k * 20) * DAY, f"g{n}-{k}", [("p", "x", 1, 100.0)],
                          promo_code="P" if k < n else "") for k in range(n + 1)]
    publish(records)
    cond = profile_pb2.SegmentCondition

    def where(*conditions: profile_pb2.SegmentCondition, stages=()) -> list[str]:
        return sorted(_query(stub, profile_pb2.Segment(conditions=conditions, lifecycle_stages=stages), START))

    assert where(cond(field=profile_pb2.SEGMENT_FIELD_ORDER_COUNT, comparison=profile_pb2.COMPARISON_GREATER_OR_EQUAL,
                      value=4)) == ["g-3", "g-4"]
    assert where(cond(field=profile_pb2.SEGMENT_FIELD_MONETARY_VALUE, comparison=profile_pb2.COMPARISON_LESS,
                      value=250)) == ["g-0", "g-1"]
    assert where(cond(field=profile_pb2.SEGMENT_FIELD_PROMO_SENSITIVITY,
                      comparison=profile_pb2.COMPARISON_GREATER_OR_EQUAL, value=0.75)) == ["g-3", "g-4"]
    assert where(cond(field=profile_pb2.SEGMENT_FIELD_DAYS_SINCE_FIRST_ORDER,
                      comparison=profile_pb2.COMPARISON_GREATER, value=65)) == ["g-3", "g-4"]
    assert where(cond(field=profile_pb2.SEGMENT_FIELD_DAYS_SINCE_LAST_ORDER,
                      comparison=profile_pb2.COMPARISON_LESS_OR_EQUAL, value=10)) == [f"g-{n}" for n in range(5)]
    assert where(cond(field=profile_pb2.SEGMENT_FIELD_AVERAGE_INTERVAL_DAYS,
                      comparison=profile_pb2.COMPARISON_EQUAL, value=20)) == ["g-1", "g-2", "g-3", "g-4"]
    assert where(stages=[profile_pb2.LIFECYCLE_STAGE_LOYAL]) == ["g-4"]  # 5 orders worth 500
    assert where(stages=[profile_pb2.LIFECYCLE_STAGE_NEW_CUSTOMER]) == ["g-0", "g-1", "g-2", "g-3"]
    for cid in ("g-0", "g-4"):
        stage = stub.GetProfile(profile_pb2.GetProfileRequest(customer_id=cid, as_of=to_timestamp(START)))
        assert (cid in where(stages=[stage.profile.lifecycle_stage]))


def test_large_segments_stream_in_batches(profile) -> None:
    stub, publish = profile
    publish([_person(f"many-{n:03d}", "1990-03-02", "Europe/Paris") for n in range(120)])
    request = profile_pb2.QuerySegmentRequest(segment=profile_pb2.Segment(birthday_today=profile_pb2.BirthdayToday()),
                                              as_of=to_timestamp(START), batch_size=50)
    sizes = [len(response.customer_ids) for response in stub.QuerySegment(request)]
    assert sizes == [50, 50, 20]


@pytest.mark.parametrize(("segment", "field"), [
    (profile_pb2.Segment(last_order_containing=profile_pb2.LastOrderContaining(days_ago=3)),
     "segment.last_order_containing.category"),
    (profile_pb2.Segment(last_order_containing=profile_pb2.LastOrderContaining(category="x", days_ago=-1)),
     "segment.last_order_containing.days_ago"),
    (profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=-1)),
     "segment.repurchase_overdue.factor"),
    (profile_pb2.Segment(conditions=[profile_pb2.SegmentCondition(comparison=profile_pb2.COMPARISON_LESS)]),
     "segment.conditions[0].field"),
    (profile_pb2.Segment(contactable_on=[identity_pb2.CHANNEL_WEB]), "segment.contactable_on[0]"),
    (profile_pb2.Segment(lifecycle_stages=[profile_pb2.LIFECYCLE_STAGE_UNSPECIFIED]), "segment.lifecycle_stages[0]"),
])
def test_bad_segments_are_invalid_argument_naming_the_field(profile, segment, field) -> None:
    stub, _ = profile
    with pytest.raises(grpc.RpcError) as caught:
        _query(stub, segment)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.details()


def test_batch_size_out_of_range_is_refused(profile) -> None:
    stub, _ = profile
    with pytest.raises(grpc.RpcError) as caught:
        _query(stub, profile_pb2.Segment(), batch_size=60_000)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
