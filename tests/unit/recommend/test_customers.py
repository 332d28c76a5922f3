"""Who a Recommend scores: the customer built in one pass over the rows the store reads is, to the last bit, the one
built from the training code's own sums (interactions.aggregate, hybrid.recent_weights)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from declic.recommending.hybrid import recent_weights
from declic.recommending.interactions import CART, PURCHASE, RETURN, VIEW, Interaction, aggregate
from services.recommend.domain.customers import Customer, customer_from_rows, customer_of

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)

interactions = st.lists(st.builds(
    lambda product, kind, quantity, order, seconds: Interaction(
        "ann", f"p{product}", kind, NOW - timedelta(seconds=seconds, microseconds=seconds % 997), quantity,
        f"o{order}" if kind in (PURCHASE, RETURN) else ""),
    st.integers(0, 6), st.sampled_from([VIEW, CART, PURCHASE, RETURN]),
    st.sampled_from([1.0, 2.0, 3.5, 12.0]), st.integers(0, 3),
    st.integers(-86_400, 400 * 86_400),  # a future date counts as now
), max_size=40)


def expected(ids: list[str], history: list[Interaction], appetences: dict[str, float]) -> Customer:
    """The customer as Recommend built them before one pass replaced two (the evaluation still sums this way)."""
    return Customer(ids, {product: weight for (_, product), weight in aggregate(history, NOW).items()}, appetences,
                    len({(i.order_id, i.at) for i in history if i.kind == PURCHASE}),
                    {product: weight for (_, product), weight in recent_weights(history, NOW).items()})


@settings(max_examples=300, deadline=None)
@given(interactions)
def test_one_pass_over_the_rows_sums_exactly_as_the_training_code(history: list[Interaction]) -> None:
    rows = [(i.product_id, i.kind, i.quantity, i.order_id, i.at) for i in history]
    built = customer_from_rows(["ann", "bob"], rows, {"cats": 2.0}, NOW)
    want = expected(["ann", "bob"], history, {"cats": 2.0})
    assert built == want
    assert list(built.history) == list(want.history) and list(built.recent) == list(want.recent)  # same order
    assert customer_of(["ann", "bob"], history, {"cats": 2.0}, NOW) == want


def test_a_product_bought_then_returned_is_not_in_the_history_and_the_order_still_counts() -> None:
    at = NOW - timedelta(days=3)
    rows = [("p1", PURCHASE, 1.0, "o1", at), ("p1", RETURN, 1.0, "o1", at), ("p2", VIEW, 1.0, "", at)]
    customer = customer_from_rows(["ann"], rows, {}, NOW)
    assert set(customer.history) == set(customer.recent) == {"p2"}
    assert customer.purchases == 1 and customer.known
