"""`declic scenarios dry-run`'s answer: would this person enter now, and why (not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from declic.scenarios.dry_run import PastEntry, dry_run
from declic.scenarios.loader import load_catalogue
from declic.scenarios.samples import SAMPLE_PROFILE

CATALOGUE = load_catalogue().scenarios
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def profile(**changes: object) -> dict:
    return {**SAMPLE_PROFILE, "contactability": {**SAMPLE_PROFILE["contactability"], "email": True}, **changes}


def test_enters_with_the_reasons_and_the_variables() -> None:
    verdict = dry_run(CATALOGUE["repurchase-overdue"], profile(promo_sensitivity=0.5, appetences={
        "department": "denim"}), None, [], NOW, "c1")
    assert verdict.enters and "contactable on email" in verdict.reasons
    assert verdict.variables == {"content": "promotion", "department": "denim"}


def test_refused_by_targeting_by_re_entry_or_for_an_unknown_customer() -> None:
    lapsed = CATALOGUE["lapsed-winback"]
    refused = dry_run(lapsed, profile(lifecycle="active"), None, [], NOW, "c1")
    assert not refused.enters and refused.reasons[-1] == "lifecycle 'active' not in lapsed"
    recently = [PastEntry("@1", "completed", NOW - timedelta(days=30))]
    again = dry_run(lapsed, profile(lifecycle="lapsed"), None, recently, NOW, "c1")
    assert not again.enters and again.reasons[-1] == "entered on 2026-05-02: once per 180 days"
    assert dry_run(lapsed, None, None, [], NOW, "c1").reasons[-1] == "customer unknown to profile"


def test_an_event_scenario_is_tried_on_its_example_event_or_a_given_one() -> None:
    cart = CATALOGUE["abandoned-cart"]
    assert dry_run(cart, profile(), None, [], NOW, "c1").enters
    removed = {"type": "cart_change", "id": "x", "cart_change": {"action": "remove", "cart_id": "k"}}
    verdict = dry_run(cart, profile(), removed, [], NOW, "c1")
    assert not verdict.enters and verdict.reasons == ['trigger: event.cart_change.action == "add" is false']
    same_cart = dry_run(cart, profile(), None, [PastEntry("cart-1", "completed", NOW)], NOW, "c1")
    assert same_cart.reasons[-1] == "already entered for 'cart-1' (once per business key)"
