"""What an order changes in the model's data."""

from __future__ import annotations

from services.recommend.domain.purchases import PurchaseChange, purchase_changes


def test_a_purchase_adds_units_and_remembers_the_buyer() -> None:
    changes = purchase_changes("ann", [("kibble", 5), ("leash", 1)], is_return=False)
    assert changes == [PurchaseChange("ann", "kibble", 5.0), PurchaseChange("ann", "leash", 1.0)]


def test_a_return_takes_units_off_and_leaves_the_buyer_as_one() -> None:
    assert purchase_changes("bob", [("bowl", 1)], is_return=True) == [PurchaseChange("", "bowl", -1.0)]


def test_lines_without_product_or_quantity_change_nothing() -> None:
    assert purchase_changes("ann", [("", 3), ("bowl", 0), ("leash", -2)], is_return=False) == []

