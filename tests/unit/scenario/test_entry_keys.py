"""Entry keys fit their column whatever the business key (a page's URL can be 2,000 characters), and stay distinct."""

from datetime import UTC, datetime

from declic.scenarios.keys import MAX_ENTRY_KEY, bounded_key, entry_key_for, reads_event_id
from declic.scenarios.loader import load_catalogue


def test_short_keys_are_kept_as_they_are() -> None:
    assert bounded_key("cart-1") == "cart-1"
    assert bounded_key("x" * MAX_ENTRY_KEY) == "x" * MAX_ENTRY_KEY


def test_long_keys_are_bounded_readable_and_distinct() -> None:
    first = bounded_key("https://shop.example.com/" + "a" * 3000)
    second = bounded_key("https://shop.example.com/" + "a" * 2999 + "b")
    assert len(first) == len(second) == MAX_ENTRY_KEY
    assert first.startswith("https://shop.example.com/aaa")
    assert first != second
    assert bounded_key("https://shop.example.com/" + "a" * 3000) == first  # deterministic


def test_only_the_scenarios_said_to_read_the_event_id_have_keys_that_depend_on_it() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for scenario in load_catalogue().scenarios.values():
        for business_key in ("", "cart-1"):
            same = entry_key_for(scenario, business_key, now, "web:e1") == entry_key_for(scenario, business_key, now,
                                                                                           "web:e2")
            assert same or reads_event_id(scenario), scenario.id
