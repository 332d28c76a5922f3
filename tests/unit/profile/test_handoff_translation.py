"""Hand-off records translated into profile's commands: amounts, kinds, consents and defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import to_timestamp
from services.profile.domain.commands import (
    ApplyEvent,
    EraseCustomer,
    MergeCustomers,
    RecordEngagement,
    RecordInterest,
    RecordOrder,
    UpdateContact,
    UpsertProduct,
)
from services.profile.intake.translation import command_of, to_cents

AT = datetime(2026, 3, 1, 10, tzinfo=UTC)


def eur(units: int, nanos: int = 0) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def record(**payload: object) -> handoff_pb2.HandoffRecord:
    event = event_pb2.Event(event_id="e1", source="shop", event_time=to_timestamp(AT), **payload)  # type: ignore
    return handoff_pb2.HandoffRecord(record_id="r1", accepted_event=handoff_pb2.AcceptedEvent(
        event=event, customer_id="c-1"))


def test_money_to_cents_keeps_the_sign() -> None:
    assert to_cents(eur(12, 500_000_000)) == 1250
    assert to_cents(eur(-1, -250_000_000)) == -125


def test_order_amount_from_lines_minus_discounts_when_no_total() -> None:
    order = event_pb2.Order(order_id="o1", kind=event_pb2.ORDER_KIND_PURCHASE, discount=eur(5), lines=[
        event_pb2.OrderLine(product_id="p", quantity=3, unit_price=eur(10), discount=eur(2), category="c")])
    command = command_of(record(order=order), AT)
    assert isinstance(command, ApplyEvent) and isinstance(command.action, RecordOrder)
    assert command.action.amount_cents == 3000 - 200 - 500
    assert command.action.discount_cents == 700
    assert command.action.currency == "EUR" and command.action.kind == "purchase"
    assert command.action.lines[0].amount_cents == 2800


def test_order_total_wins_and_returns_are_returns() -> None:
    order = event_pb2.Order(order_id="r1", kind=event_pb2.ORDER_KIND_RETURN, total=eur(42),
                            lines=[event_pb2.OrderLine(product_id="p", quantity=1, unit_price=eur(50))])
    action = command_of(record(order=order), AT).action  # type: ignore[union-attr]
    assert (action.kind, action.amount_cents, action.discount_cents) == ("return", 4200, 0)


def test_a_promo_code_alone_marks_the_purchase_as_discounted() -> None:
    order = event_pb2.Order(order_id="o", promo_code="WELCOME",
                            lines=[event_pb2.OrderLine(product_id="p", quantity=1, unit_price=eur(5))])
    assert command_of(record(order=order), AT).action.discount_cents > 0  # type: ignore[union-attr]


def test_consent_without_time_takes_the_event_time() -> None:
    identify = event_pb2.Identify(first_name="Ann", consents=[
        identity_pb2.Consent(channel=identity_pb2.CHANNEL_SMS, state=identity_pb2.CONSENT_STATE_DENIED),
        identity_pb2.Consent(channel=identity_pb2.CHANNEL_EMAIL),  # no state: ignored
    ])
    action = command_of(record(identify=identify), AT).action  # type: ignore[union-attr]
    assert isinstance(action, UpdateContact)
    assert [(c.channel, c.state, c.given_at, c.legal_basis) for c in action.consents] == [("sms", "denied", AT, "")]


def test_browsing_engagement_and_catalogue() -> None:
    assert command_of(record(product_view=event_pb2.ProductView(product_id="p", category="c")), AT).action == (
        RecordInterest("view", "p", "c"))
    cart = event_pb2.CartChange(action=event_pb2.CART_ACTION_ADD, product_id="p")
    assert command_of(record(cart_change=cart), AT).action == RecordInterest("cart", "p", "")
    removed = event_pb2.CartChange(action=event_pb2.CART_ACTION_REMOVE, product_id="p")
    assert command_of(record(cart_change=removed), AT).action is None  # type: ignore[union-attr]
    engagement = event_pb2.MessageEngagement(message_id="m", channel=identity_pb2.CHANNEL_EMAIL,
                                             kind=event_pb2.ENGAGEMENT_KIND_BOUNCED)
    assert command_of(record(message_engagement=engagement), AT).action == RecordEngagement("email", "bounced", "m")
    product = event_pb2.ProductUpsert(product_id="p", categories=["dog food", "food"], attributes={"size": "xl"})
    upsert = command_of(record(product_upsert=product), AT).action  # type: ignore[union-attr]
    assert isinstance(upsert, UpsertProduct) and (upsert.category, upsert.pack_size) == ("dog food", "XL")


def test_merges_and_erasures() -> None:
    merged = handoff_pb2.HandoffRecord(record_id="m", customers_merged=handoff_pb2.CustomersMerged(
        survivor_id="a", merged_ids=["b", "c"], cause_event_id="e"))
    assert command_of(merged, AT) == MergeCustomers("a", ("b", "c"), "e")
    erased = handoff_pb2.HandoffRecord(record_id="x", customer_erased=handoff_pb2.CustomerErased(
        customer_id="a", identifier_hashes=["h"]))
    assert command_of(erased, AT) == EraseCustomer("a", ("h",))
    assert command_of(handoff_pb2.HandoffRecord(record_id="empty"), AT) is None
