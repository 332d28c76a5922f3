"""The four reference scenarios of PRODUCT.md, on the real database, on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.scenario.domain.journeys import JourneyState
from tests.integration.scenario.harness import Harness, cart_add, engagement, identify, order, profile

pytestmark = pytest.mark.integration
MONDAY_9_UTC = datetime(2026, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
def harness(settings):
    harness = Harness(settings, start=MONDAY_9_UTC)
    yield harness
    harness.close()


def test_welcome_by_the_animal_they_care_for_then_a_reminder_when_not_opened(harness) -> None:
    harness.profiles.known["ann"] = profile("ann", appetences={"animal": "cat"})
    harness.send("ann", identify(), new_customer=True)
    harness.run(timedelta(minutes=1), step=timedelta(minutes=1))
    [offer] = harness.firings("ann", "welcome")
    assert (offer.step_id, offer.template_id, offer.channels) == ("welcome-offer", "welcome", ("email", "sms"))
    assert offer.variables["animal"] == "cat" and offer.fired_at == MONDAY_9_UTC + timedelta(minutes=1)
    harness.run(timedelta(days=3, hours=1))
    assert [f.step_id for f in harness.firings("ann", "welcome")] == ["welcome-offer", "not-too-late"]
    assert harness.journey("ann", "welcome").state is JourneyState.COMPLETED


def test_welcome_opened_leaves_the_scenario(harness) -> None:
    harness.profiles.known["bob"] = profile("bob", attributes={"animal": "dog"})
    harness.send("bob", identify("account_created"))
    harness.run(timedelta(hours=1))
    harness.send("bob", engagement("welcome"))
    harness.run(timedelta(days=4))
    [offer] = harness.firings("bob", "welcome")
    assert offer.variables["animal"] == "dog"  # no appetence yet: what they told us
    journey = harness.journey("bob", "welcome")
    assert (journey.state, journey.detail) == (JourneyState.EXITED, "welcome-offer opened")


def test_abandoned_cart_reminds_after_two_hours_and_an_order_stops_it_mid_wait(harness) -> None:
    harness.profiles.known["cat"] = profile("cat")
    harness.send("cat", cart_add("cart-1"))
    harness.send("cat", cart_add("cart-1", "p2"))  # the same cart: the same entry
    harness.run(timedelta(hours=1, minutes=50))
    assert harness.firings("cat", "abandoned-cart") == []  # not at once: no vulture effect
    harness.run(timedelta(minutes=10))
    [reminder] = harness.firings("cat", "abandoned-cart")
    assert reminder.variables["cart_id"] == "cart-1" and reminder.variables["recommendation_strategy"] == (
        "bought_together")
    journey = harness.journey("cat", "abandoned-cart")
    assert journey.state is JourneyState.WAITING and journey.occurrences == 2
    harness.send("cat", order("o-1"))  # in the middle of the one-day wait
    stopped = harness.journey("cat", "abandoned-cart")
    assert stopped.state is JourneyState.INTERRUPTED and stopped.due_at is None
    assert stopped.goal_at == harness.clock.now() and stopped.detail == "interrupted by order web:" + (
        stopped.memory["goal_event"].split(":")[1])
    harness.run(timedelta(days=3))
    assert [f.step_id for f in harness.firings("cat", "abandoned-cart")] == ["cart-reminder"]


def test_abandoned_cart_not_clicked_gets_the_reassurance_a_day_later(harness) -> None:
    harness.profiles.known["dan"] = profile("dan")
    harness.send("dan", cart_add("cart-9"))
    harness.run(timedelta(days=1, hours=3))
    assert [f.step_id for f in harness.firings("dan")] == ["cart-reminder", "reassurance"]


def test_kibble_alert_at_ten_local_once_per_run_with_a_control_group(harness) -> None:
    customers = [f"k{n}" for n in range(40)]
    for customer in customers:
        harness.profiles.known[customer] = profile(customer, timezone="America/New_York")
    harness.profiles.segment_members = customers
    scenario = harness.catalogue.scenarios["kibble-stock-alert"]
    assert harness.segments.run_due([scenario]) == 40
    assert harness.segments.run_due([scenario]) == 0  # the day's run is done
    harness.run(timedelta(hours=4))  # 13:00 UTC = 09:00 in New York
    assert not any(harness.firings(c) for c in customers)
    harness.run(timedelta(hours=1))
    sent = [f for c in customers for f in harness.firings(c)]
    held = [c for c in customers if harness.journey(c, "kibble-stock-alert").state is JourneyState.HELD_OUT]
    assert len(sent) + len(held) == 40 and 0 < len(held) < 15  # 10 % held out, stable per journey
    assert {f.fired_at for f in sent} == {datetime(2026, 5, 4, 14, tzinfo=UTC)}  # 10:00 EDT


def test_repurchase_overdue_content_by_promo_sensitivity(harness) -> None:
    harness.profiles.known["eve"] = profile("eve", promo_sensitivity=0.6, appetences={"department": "denim"})
    harness.profiles.known["fay"] = profile("fay", promo_sensitivity=0.1)
    harness.profiles.segment_members = ["eve", "fay"]
    harness.segments.run_due([harness.catalogue.scenarios["repurchase-overdue"]])
    harness.run(timedelta(days=1))  # 11:00 in Paris: the next 10:00 is tomorrow's
    firings = {f.customer_id: f for c in ("eve", "fay") for f in harness.firings(c)}
    reached = {c: j.state for c in ("eve", "fay") for j in harness.journeys(c)}
    for customer, template in (("eve", "repurchase-promotion"), ("fay", "repurchase-new-collection")):
        if reached[customer] is not JourneyState.HELD_OUT:
            assert firings[customer].template_id == template
    if "eve" in firings:
        assert firings["eve"].variables["department"] == "denim"
