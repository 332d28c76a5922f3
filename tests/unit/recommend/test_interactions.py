"""What an interaction is worth: kind, quantity, age; baskets for bought-together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from declic.recommending.interactions import (
    CART,
    PURCHASE,
    RETURN,
    VIEW,
    Interaction,
    aggregate,
    baskets,
    decayed,
    interaction_weight,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_purchase_outweighs_a_cart_add_which_outweighs_a_view() -> None:
    assert interaction_weight(PURCHASE) > interaction_weight(CART) > interaction_weight(VIEW) > 0
    assert interaction_weight(RETURN) < 0
    assert interaction_weight(PURCHASE, 10) > interaction_weight(PURCHASE, 1)


def test_weights_halve_every_half_life_and_a_future_date_counts_as_now() -> None:
    assert decayed(8.0, NOW - timedelta(days=240), NOW, half_life_days=120) == pytest.approx(2.0)
    assert decayed(8.0, NOW + timedelta(days=3), NOW) == 8.0


def test_a_returned_purchase_counts_for_nothing_and_views_add_up() -> None:
    pairs = aggregate([
        Interaction("ann", "bowl", PURCHASE, NOW), Interaction("ann", "bowl", RETURN, NOW),
        Interaction("ann", "leash", VIEW, NOW), Interaction("ann", "leash", VIEW, NOW),
    ], NOW)
    assert pairs == {("ann", "leash"): pytest.approx(2.0)}


def test_baskets_are_orders_and_purchases_without_an_order_group_by_customer() -> None:
    found = baskets([
        Interaction("ann", "a", PURCHASE, NOW, order_id="o1"), Interaction("ann", "b", PURCHASE, NOW, order_id="o1"),
        Interaction("ann", "c", PURCHASE, NOW, order_id="o2"), Interaction("bob", "d", PURCHASE, NOW),
        Interaction("bob", "e", VIEW, NOW),
    ])
    assert sorted(map(sorted, found)) == [["a", "b"], ["c"], ["d"]]
