"""From hand-off events to what the model reads: one translation for the intake and the UCI loader."""

from __future__ import annotations

from datetime import UTC, datetime

from declic.common.v1 import event_pb2, money_pb2
from declic.recommending.events import appetence_of, interactions_of, product_of
from declic.recommending.interactions import CART, PURCHASE, RETURN, VIEW

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_views_cart_adds_and_order_lines_become_interactions_other_events_nothing() -> None:
    view = event_pb2.Event(product_view=event_pb2.ProductView(product_id="bowl", category="dogs"))
    add = event_pb2.Event(cart_change=event_pb2.CartChange(action=event_pb2.CART_ACTION_ADD, product_id="bowl",
                                                           quantity=2))
    remove = event_pb2.Event(cart_change=event_pb2.CartChange(action=event_pb2.CART_ACTION_REMOVE, product_id="bowl"))
    bought = event_pb2.Event(order=event_pb2.Order(order_id="o1", lines=[
        event_pb2.OrderLine(product_id="bowl", quantity=1), event_pb2.OrderLine(product_id="", quantity=1)]))
    returned = event_pb2.Event(order=event_pb2.Order(order_id="r1", kind=event_pb2.ORDER_KIND_RETURN,
                                                     lines=[event_pb2.OrderLine(product_id="bowl", quantity=1)]))
    assert [i.kind for i in interactions_of(view, "ann", AT)] == [VIEW]
    assert [(i.kind, i.quantity) for i in interactions_of(add, "ann", AT)] == [(CART, 2.0)]
    assert interactions_of(remove, "ann", AT) == []
    assert [(i.kind, i.order_id) for i in interactions_of(bought, "ann", AT)] == [(PURCHASE, "o1")]
    assert [i.kind for i in interactions_of(returned, "ann", AT)] == [RETURN]
    assert interactions_of(bought, "", AT) == []  # a catalogue event or no customer: nobody to remember
    assert appetence_of(view) == "dogs"
    assert appetence_of(event_pb2.Event(page_view=event_pb2.PageView(category="cats"))) == "cats"


def test_a_product_upsert_gives_the_catalogue_entry() -> None:
    upsert = event_pb2.ProductUpsert(product_id="food", name="Kibble 2kg", category="dogs", in_stock=True,
                                     attributes={"brand": "acme", "replenishment": "true"},
                                     price=money_pb2.Money(currency_code="EUR", units=12, nanos=500_000_000))
    product = product_of(upsert)
    assert product.categories == ("dogs",) and product.price == 12.5 and product.replenishment
    assert product.attributes == (("brand", "acme"),) and product.in_stock
    upsert.deleted = True
    assert not product_of(upsert).in_stock  # withdrawn: never suggested
    upsert.deleted, upsert.in_stock = False, False
    assert not product_of(upsert).in_stock
    path = event_pb2.ProductUpsert(product_id="x", categories=["pets", "dogs"])
    assert product_of(path).categories == ("pets", "dogs")
