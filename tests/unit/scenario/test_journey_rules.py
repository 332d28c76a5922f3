"""Journey rules of the pure domain: waits in the customer's zone across DST, entry keys per re-entry rule,
interruption and goals, branches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from declic.scenarios.loader import load_catalogue
from services.scenario.domain.journeys import JourneyState, entry_key_for, new_journey
from services.scenario.domain.progress import advance
from services.scenario.domain.reactions import react
from services.scenario.domain.timing import after, local_date_at, next_local_time

CATALOGUE = load_catalogue().scenarios
PARIS = "Europe/Paris"


def test_a_one_day_wait_keeps_the_local_time_across_the_spring_change() -> None:
    saturday_10_paris = datetime(2026, 3, 28, 9, tzinfo=UTC)  # CET, UTC+1
    assert after(saturday_10_paris, timedelta(days=1), PARIS) == datetime(2026, 3, 29, 8, tzinfo=UTC)  # CEST
    assert after(saturday_10_paris, timedelta(hours=23), PARIS) == datetime(2026, 3, 29, 8, tzinfo=UTC)  # elapsed


def test_a_one_day_wait_keeps_the_local_time_across_the_autumn_change() -> None:
    saturday_10_paris = datetime(2026, 10, 24, 8, tzinfo=UTC)  # CEST, UTC+2
    assert after(saturday_10_paris, timedelta(days=1), PARIS) == datetime(2026, 10, 25, 9, tzinfo=UTC)  # CET


def test_until_a_local_time_in_the_customer_zone_and_in_a_dst_gap() -> None:
    assert next_local_time(datetime(2026, 7, 1, 6, tzinfo=UTC), time(10), "America/New_York") == datetime(
        2026, 7, 1, 14, tzinfo=UTC)
    assert next_local_time(datetime(2026, 7, 1, 15, tzinfo=UTC), time(10), "America/New_York") == datetime(
        2026, 7, 2, 14, tzinfo=UTC)  # passed today: tomorrow's
    # 02:30 does not exist in Paris on 29 March 2026: taken as 03:30 CEST.
    assert next_local_time(datetime(2026, 3, 29, 0, tzinfo=UTC), time(2, 30), PARIS) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local_date_at(date(2026, 4, 10), timedelta(days=-3), time(10), "Asia/Tokyo") == datetime(
        2026, 4, 7, 1, tzinfo=UTC)


def test_entry_keys_follow_the_re_entry_rule() -> None:
    now = datetime(2026, 5, 4, tzinfo=UTC)
    assert entry_key_for(CATALOGUE["welcome"], "ignored", now) == ""  # once ever
    assert entry_key_for(CATALOGUE["abandoned-cart"], "cart-1", now) == "cart-1"  # once per cart
    kibble = CATALOGUE["kibble-stock-alert"]  # once per 14 days
    assert entry_key_for(kibble, "", now) == entry_key_for(kibble, "", now + timedelta(days=1))
    assert entry_key_for(kibble, "", now) != entry_key_for(kibble, "", now + timedelta(days=14))
    assert entry_key_for(CATALOGUE["password-changed"], "", now, "web:e1") == "web:e1"  # always


def profile(**fields: object) -> dict:
    base = {"timezone": PARIS, "lifecycle": "active", "contactability": {"email": True}, "attributes": {},
            "appetences": {}, "promo_sensitivity": 0.0}
    return {**base, **fields}


def test_targeting_refuses_with_its_reason_and_holdout_never_contacts() -> None:
    now = datetime(2026, 5, 4, 8, tzinfo=UTC)
    cart = CATALOGUE["abandoned-cart"]
    journey = new_journey(cart, "c1", "cart-1", now, {"type": "cart_change"})
    refused = advance(cart, journey, profile(contactability={"email": False}), now + timedelta(hours=2))
    assert refused.journey.state is JourneyState.NOT_ELIGIBLE and refused.firings == []
    assert refused.journey.detail == "not contactable on email or sms or push"


def test_an_order_interrupts_mid_wait_and_counts_as_the_goal() -> None:
    now = datetime(2026, 5, 4, 8, tzinfo=UTC)
    cart = CATALOGUE["abandoned-cart"]
    journey = new_journey(cart, "c2", "cart-2", now, {"type": "cart_change"})
    started = advance(cart, journey, profile(), now + timedelta(hours=2)).journey
    assert started.state is JourneyState.WAITING and started.due_at == now + timedelta(days=1, hours=2)
    ordered = react(cart, started, {"type": "order", "id": "web:o9", "order": {}}, now + timedelta(hours=5))
    assert ordered is not None and ordered.state is JourneyState.INTERRUPTED and ordered.due_at is None
    assert ordered.goal_at == now + timedelta(hours=5)
    assert react(cart, started, {"type": "page_view", "page_view": {}}, now) is None


def test_welcome_branch_on_an_open() -> None:
    now = datetime(2026, 5, 4, 8, tzinfo=UTC)
    welcome = CATALOGUE["welcome"]
    waiting = advance(welcome, new_journey(welcome, "c3", "", now), profile(), now).journey
    opened = react(welcome, waiting, {"type": "message_engagement", "time": (now + timedelta(hours=3)).isoformat(),
                                      "message_engagement": {"scenario_id": "welcome", "kind": "opened"}}, now)
    assert opened is not None
    done = advance(welcome, opened, None, now + timedelta(days=3))
    assert (done.journey.state, done.journey.detail, done.firings) == (
        JourneyState.EXITED, "welcome-offer opened", [])
    not_opened = advance(welcome, waiting, None, now + timedelta(days=3))
    assert [f.step_id for f in not_opened.firings] == ["not-too-late"]
