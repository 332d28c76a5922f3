"""Computed attributes from orders, returns, browsing and engagement — hand-computed cases,
and the same result whatever order the events arrive in."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.protoconv import to_timestamp
from declic.profile.v1 import profile_pb2
from tests.integration.profile.conftest import START
from tests.integration.profile.records import accepted, consent, ident, identify, order

DAY = timedelta(days=1)
CUSTOMER = "c-rfm"


def _history() -> list:
    """Four purchases 30 days apart (100, 60 with a 10 discount, 120, 80) and a return of 20 — all hand-computed."""
    email = [ident("email", "rfm@example.com")]
    return [
        identify(CUSTOMER, START - 200 * DAY, email, first_name="Rita",
                 consents=[consent("email", True, START - 200 * DAY)]),
        order(CUSTOMER, START - 100 * DAY, "o-1", [("p-kib", "dog food", 2, 50.0)], record_id="o1"),
        order(CUSTOMER, START - 70 * DAY, "o-2", [("p-toy", "dog toys", 1, 70.0)], discount=10.0, record_id="o2"),
        order(CUSTOMER, START - 40 * DAY, "o-3", [("p-kib", "dog food", 3, 40.0)], record_id="o3"),
        order(CUSTOMER, START - 10 * DAY, "o-4", [("p-cat", "cat food", 4, 20.0)], promo_code="SPRING",
              record_id="o4"),
        order(CUSTOMER, START - 5 * DAY, "r-4", [("p-cat", "cat food", 1, 20.0)], kind=event_pb2.ORDER_KIND_RETURN,
              record_id="r4"),
        accepted(CUSTOMER, START - 2 * DAY, email, record_id="v1",
                 product_view=event_pb2.ProductView(product_id="p-cat", category="cat food")),
    ]


def _get(stub, customer_id: str = CUSTOMER, as_of=None) -> profile_pb2.Profile:
    request = profile_pb2.GetProfileRequest(customer_id=customer_id)
    if as_of is not None:
        request.as_of.CopyFrom(to_timestamp(as_of))
    return stub.GetProfile(request).profile


def test_rfm_interval_value_and_promo_on_a_hand_computed_history(profile) -> None:
    stub, publish = profile
    publish(_history())
    got = _get(stub)
    assert got.order_count == 4
    # 100 + 60 + 120 + 80 − 20 returned
    assert (got.monetary_value.units, got.monetary_value.nanos, got.monetary_value.currency_code) == (340, 0, "EUR")
    assert got.average_interval_days == pytest.approx(30.0)
    assert got.next_order_expected_at.ToDatetime().date() == (START + 20 * DAY).date()
    assert got.rfm.days_since_last_order == pytest.approx(10.0)
    assert got.rfm.frequency == 4
    assert got.rfm.monetary.units == 340
    # recency 10 d ≤ 30 → 5; 4 orders > 1, > 2 → 3; 340 > 100, > 250 → 3
    assert (got.rfm.recency_score, got.rfm.frequency_score, got.rfm.monetary_score) == (5, 3, 3)
    assert got.promo_sensitivity == pytest.approx(0.5)  # o-2 (discount) and o-4 (promo code)
    assert got.lifecycle_stage == profile_pb2.LIFECYCLE_STAGE_ACTIVE
    assert [o.order_id for o in got.last_orders] == ["r-4", "o-4", "o-3", "o-2", "o-1"]
    assert got.last_orders[0].kind == event_pb2.ORDER_KIND_RETURN
    assert got.last_orders[1].categories == ["cat food"]
    for field in ("lifecycle_stage", "rfm", "average_interval_days", "promo_sensitivity", "contactability.email",
                  "preferred_channel", "timezone"):
        assert got.explanations[field], field
    assert "2 of 4 purchases" in got.explanations["promo_sensitivity"]
    categories = [a for a in got.appetences if a.dimension == "category"]
    # dog food: purchases at −100 and −40 days; cat food: a purchase at −10 and a view at −2 → cat food leads now.
    assert categories[0].value == "cat food"
    assert sum(a.share for a in categories) == pytest.approx(1.0)


def test_lifecycle_moves_with_time_without_any_new_event(profile) -> None:
    stub, publish = profile
    publish(_history())
    stage = profile_pb2.LifecycleStage.Name
    assert stage(_get(stub, as_of=START).lifecycle_stage) == "LIFECYCLE_STAGE_ACTIVE"
    # 2 × 30-day interval exceeded (and > 30 days) → at risk; beyond 120 days → at risk; beyond 365 → lapsed.
    assert stage(_get(stub, as_of=START + 55 * DAY).lifecycle_stage) == "LIFECYCLE_STAGE_AT_RISK"
    assert stage(_get(stub, as_of=START + 400 * DAY).lifecycle_stage) == "LIFECYCLE_STAGE_LAPSED"
    assert "365" in _get(stub, as_of=START + 400 * DAY).explanations["lifecycle_stage"]
    # Before the first order (as seen from the past) the customer was new.
    assert stage(_get(stub, as_of=START - 99 * DAY).lifecycle_stage) in {
        "LIFECYCLE_STAGE_NEW_CUSTOMER", "LIFECYCLE_STAGE_ACTIVE"}


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_and_duplicated_delivery_gives_the_same_profile(profile, seed) -> None:
    stub, publish = profile
    history = _history()
    shuffled = history + history[1:4]  # some records delivered twice
    random.Random(seed).shuffle(shuffled)
    publish(shuffled)
    got = _get(stub)
    assert got.order_count == 4
    assert got.monetary_value.units == 340
    assert got.average_interval_days == pytest.approx(30.0)
    assert got.first_name == "Rita"
    assert got.promo_sensitivity == pytest.approx(0.5)
    reference = [(a.dimension, a.value, round(a.score, 6)) for a in got.appetences]
    assert reference[0][1] == "cat food"


def test_out_of_order_appetences_equal_in_order_ones(profile) -> None:
    stub, publish = profile
    views = [
        accepted(f"c-{name}", START - days * DAY, [ident("email", f"{name}@example.com")], record_id=f"{name}-{days}",
                 product_view=event_pb2.ProductView(product_id=f"p-{days}", category=category))
        for name in ("inorder", "reverse")
        for days, category in [(60, "denim"), (30, "skirts"), (20, "denim"), (3, "skirts"), (1, "denim")]
    ]
    publish(views[:5] + list(reversed(views[5:])))
    first = {(a.value): a.score for a in _get(stub, "c-inorder").appetences}
    second = {(a.value): a.score for a in _get(stub, "c-reverse").appetences}
    assert first.keys() == second.keys() == {"denim", "skirts"}
    for value in first:
        assert first[value] == pytest.approx(second[value], rel=1e-9)
    # denim = 2^(-60/30) + 2^(-20/30) + 2^(-1/30); skirts = 2^(-1) + 2^(-3/30)
    assert first["denim"] == pytest.approx(2 ** -2 + 2 ** (-20 / 30) + 2 ** (-1 / 30), rel=1e-3)
    assert first["skirts"] == pytest.approx(2 ** -1 + 2 ** (-3 / 30), rel=1e-3)


def test_late_identify_does_not_overwrite_newer_fields_and_newest_consent_wins(profile) -> None:
    stub, publish = profile
    email = [ident("email", "late@example.com")]
    publish([
        identify("c-late", START - DAY, email, first_name="New", consents=[consent("sms", False, START - DAY)]),
        identify("c-late", START - 9 * DAY, email + [ident("phone", "+33612345679")], first_name="Old",
                 last_name="Kept", consents=[consent("sms", True, START - 9 * DAY)]),
    ])
    got = _get(stub, "c-late")
    assert (got.first_name, got.last_name) == ("New", "Kept")
    sms = {c.channel: c for c in got.consents}[identity_pb2.CHANNEL_SMS]
    assert sms.state == identity_pb2.CONSENT_STATE_DENIED
    history = stub.ListConsentHistory(profile_pb2.ListConsentHistoryRequest(customer_id="c-late")).records
    assert [r.consent.state for r in history] == [identity_pb2.CONSENT_STATE_GRANTED,
                                                  identity_pb2.CONSENT_STATE_DENIED]
    assert all(r.origin.startswith("event test/") for r in history)


def test_preferred_channel_follows_engagement(profile) -> None:
    stub, publish = profile
    ids = [ident("email", "eng@example.com"), ident("phone", "+33612345670")]

    def engaged(channel: int, kind: int, n: int) -> list:
        return [accepted("c-eng", START - DAY, ids, message_engagement=event_pb2.MessageEngagement(
            message_id=f"m-{channel}-{kind}-{i}", channel=channel, kind=kind)) for i in range(n)]

    publish([identify("c-eng", START - 5 * DAY, ids, consents=[consent("email", True, START - 5 * DAY),
                                                              consent("sms", True, START - 5 * DAY)])])
    assert _get(stub, "c-eng").preferred_channel == identity_pb2.CHANNEL_EMAIL  # first contactable
    publish(engaged(identity_pb2.CHANNEL_EMAIL, event_pb2.ENGAGEMENT_KIND_OPENED, 2)
            + engaged(identity_pb2.CHANNEL_SMS, event_pb2.ENGAGEMENT_KIND_CLICKED, 2))
    got = _get(stub, "c-eng")
    assert got.preferred_channel == identity_pb2.CHANNEL_SMS
    assert "2 clicks" in got.explanations["preferred_channel"]


def test_timezone_is_inferred_from_the_phone_when_not_given(profile) -> None:
    stub, publish = profile
    publish([identify("c-tz", START, [ident("phone", "+14155550123")]),
             identify("c-tz2", START, [ident("phone", "+33612345671")], timezone="Not/AZone")])
    assert _get(stub, "c-tz").timezone == "America/Los_Angeles"
    assert "phone" in _get(stub, "c-tz").explanations["timezone"]
    assert _get(stub, "c-tz2").timezone == "Europe/Paris"  # an unknown zone is ignored


def test_catalogue_arriving_after_the_order_still_feeds_segments_and_attributes(profile) -> None:
    stub, publish = profile
    product = accepted("", START - 30 * DAY, [], record_id="prod-xl", product_upsert=event_pb2.ProductUpsert(
        product_id="p-xl", name="Kibble 15 kg", category="dog food", attributes={"pack_size": "xl", "animal": "dog"}))
    publish([order("c-cat", START - 20 * DAY, "o-xl", [("p-xl", "", 1, 45.0)]), product])
    got = _get(stub, "c-cat")
    assert got.last_orders[0].categories == ["dog food"]
    # The purchase made before the product was known gets its category and attribute signals late,
    # exactly as if the catalogue had come first; browsing it now feeds both too (cats vs dogs).
    publish([accepted("c-cat", START - DAY, [], product_view=event_pb2.ProductView(product_id="p-xl"))])
    appetences = {(a.dimension, a.value): a for a in _get(stub, "c-cat").appetences}
    expected = 5 * 2 ** (-20 / 30) + 1 * 2 ** (-1 / 30)  # purchase 20 days ago, view yesterday
    assert appetences[("animal", "dog")].score == pytest.approx(expected, rel=1e-4)
    assert appetences[("category", "dog food")].score == pytest.approx(expected, rel=1e-4)
    assert appetences[("animal", "dog")].share == 1.0
    # A second version of the product adds nothing more.
    publish([accepted("", START, [], record_id="prod-xl-v2", product_upsert=event_pb2.ProductUpsert(
        product_id="p-xl", name="Kibble 15 kg", category="dog food", attributes={"pack_size": "xl"}))])
    again = {(a.dimension, a.value): a.score for a in _get(stub, "c-cat").appetences}
    assert again[("category", "dog food")] == pytest.approx(expected, rel=1e-4)
