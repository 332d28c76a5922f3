"""Event validation: required fields per type, field paths, normalisation in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit.errors import stats_reason
from declic.kit.protoconv import to_timestamp
from services.ingest.quick_checks import QUICK_CHECKS
from services.ingest.validation import EventValidator

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EMAIL = identity_pb2.IDENTIFIER_TYPE_EMAIL
validator = EventValidator("FR", timedelta(minutes=10))


def event(**payload: object) -> event_pb2.Event:
    return event_pb2.Event(
        event_id="e-1", source="webshop", event_time=to_timestamp(NOW - timedelta(hours=1)),
        identifiers=[identity_pb2.Identifier(type=EMAIL, value="Ann@Example.com")], **payload,
    )


def eur(units: int, nanos: int = 0, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def errors_of(e: event_pb2.Event) -> dict[str, str]:
    return dict(validator.validate(0, e, NOW).errors)


def test_a_good_event_is_normalised_in_place() -> None:
    e = event(identify=event_pb2.Identify(locale="fr_FR"))
    e.identifiers.add(type=identity_pb2.IDENTIFIER_TYPE_PHONE, value="06 12 34 56 78")
    result = validator.validate(0, e, NOW)
    assert result.ok, result.errors
    assert result.identifiers == [("email", "ann@example.com"), ("phone", "+33612345678")]
    assert e.identifiers[0].value == "ann@example.com" and e.identifiers[1].value == "+33612345678"
    assert e.identify.locale == "fr-FR"
    assert result.event_time == NOW - timedelta(hours=1)


def test_envelope_rules() -> None:
    e = event_pb2.Event(page_view=event_pb2.PageView(url="https://x.fr"),
                        event_time=to_timestamp(NOW + timedelta(days=2)))
    e.identifiers.add(type=identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED, value="x")
    e.identifiers.add(type=EMAIL, value="not-an-email")
    assert errors_of(e) == {
        "source": "is required",
        "event_id": "is required",
        "event_time": "is in the future (more than 600 s after receipt)",
        "identifiers[0].type": "is required",
        "identifiers[1].value": errors_of(e)["identifiers[1].value"],
    }
    assert errors_of(e)["identifiers[1].value"].startswith("is not a valid e-mail address")


def test_missing_event_time_and_payload_and_identifiers() -> None:
    e = event_pb2.Event(event_id="e", source="pos")
    assert errors_of(e) == {"event_time": "is required", "payload": errors_of(e)["payload"]}
    no_ids = event(page_view=event_pb2.PageView(url="https://x.fr"))
    del no_ids.identifiers[:]
    assert errors_of(no_ids) == {"identifiers": "at least one identifier is required"}


def test_order_rules_name_each_bad_line() -> None:
    order = event_pb2.Order(order_id="o-1", lines=[
        event_pb2.OrderLine(product_id="p1", quantity=2, unit_price=eur(3)),
        event_pb2.OrderLine(product_id="", quantity=0, unit_price=eur(-1)),
        event_pb2.OrderLine(product_id="p3", quantity=1),
        event_pb2.OrderLine(product_id="p4", quantity=1, unit_price=eur(1, currency="XXX")),
    ])
    assert errors_of(event(order=order)) == {
        "order.lines[1].product_id": "is required",
        "order.lines[1].quantity": "must be > 0",
        "order.lines[1].unit_price": "must be >= 0",
        "order.lines[2].unit_price": "is required",
        "order.lines[3].unit_price.currency_code": "is not an ISO 4217 currency code ('XXX')",
    }


def test_orders_need_lines_an_id_and_one_currency() -> None:
    assert errors_of(event(order=event_pb2.Order())) == {
        "order.order_id": "is required", "order.lines": "at least one line is required",
    }
    mixed = event_pb2.Order(order_id="o", lines=[event_pb2.OrderLine(product_id="p", quantity=1, unit_price=eur(1))],
                            total=eur(1, currency="GBP"))
    assert errors_of(event(order=mixed)) == {"order": "all amounts must be in one currency (found EUR, GBP)"}


def test_order_kind_defaults_to_purchase_and_currency_is_upper_cased() -> None:
    e = event(order=event_pb2.Order(order_id="o", lines=[
        event_pb2.OrderLine(product_id="p", quantity=1, unit_price=eur(1, currency="eur"))]))
    result = validator.validate(0, e, NOW)
    assert result.ok and result.product_ids == ["p"]
    assert e.order.kind == event_pb2.ORDER_KIND_PURCHASE
    assert e.order.lines[0].unit_price.currency_code == "EUR"


@pytest.mark.parametrize(("payload", "expected"), [
    ({"page_view": event_pb2.PageView(url="javascript:alert(1)")},
     {"page_view.url": "must be an absolute http(s) URL of at most 4,096 characters"}),
    ({"product_view": event_pb2.ProductView()}, {"product_view.product_id": "is required"}),
    ({"cart_change": event_pb2.CartChange(cart_id="c")}, {"cart_change.action": "is required"}),
    ({"cart_change": event_pb2.CartChange(cart_id="c", action=event_pb2.CART_ACTION_ADD, product_id="p")},
     {"cart_change.quantity": "must be > 0"}),
    ({"message_engagement": event_pb2.MessageEngagement()},
     {"message_engagement.message_id": "is required", "message_engagement.channel": "is required",
      "message_engagement.kind": "is required"}),
    ({"identify": event_pb2.Identify(birth_date="1990-13-01", timezone="Paris",
                                     consents=[identity_pb2.Consent()])},
     {"identify.birth_date": "is not a calendar date",
      "identify.timezone": 'must be an IANA time zone such as "Europe/Paris"',
      "identify.consents[0].channel": "is required", "identify.consents[0].state": "is required"}),
])
def test_required_fields_per_event_type(payload: dict, expected: dict) -> None:
    assert errors_of(event(**payload)) == expected


def test_catalogue_events_need_no_identifier_but_a_name() -> None:
    e = event_pb2.Event(event_id="p", source="erp", event_time=to_timestamp(NOW),
                        product_upsert=event_pb2.ProductUpsert(product_id="p1", price=eur(-1)))
    assert errors_of(e) == {"product_upsert.name": "is required (unless deleted)",
                            "product_upsert.price": "must be >= 0"}
    e.product_upsert.name, e.product_upsert.price.units = "Kibble XL", 30
    assert errors_of(e) == {}


def test_cart_clear_needs_no_product() -> None:
    clear = event(cart_change=event_pb2.CartChange(cart_id="c", action=event_pb2.CART_ACTION_CLEAR))
    assert errors_of(clear) == {}


def test_stats_reasons_drop_indices_and_details() -> None:
    assert stats_reason("order.lines[3].quantity", "must be > 0") == "order.lines[].quantity: must be > 0"
    assert stats_reason("identifiers[0].value", "is not a valid e-mail address (The email ...)") == \
        "identifiers[].value: is not a valid e-mail address"


ids = st.sampled_from(["p1", "SKU-9", "", "  ", " p2", "x" * 129, "bad\x07id"])
amounts = st.builds(money_pb2.Money, currency_code=st.sampled_from(["EUR", "eur", "GBP", "XXX", ""]),
                    units=st.sampled_from([0, 3, -1, 10**12, 10**12 + 1]),
                    nanos=st.sampled_from([0, 500_000_000, -5, 10**9]))
payloads = st.one_of(
    st.builds(lambda o: {"order": o}, st.builds(
        event_pb2.Order, order_id=ids, kind=st.sampled_from([0, 1, 2]), original_order_id=ids,
        lines=st.lists(st.builds(event_pb2.OrderLine, product_id=ids, quantity=st.sampled_from([0, 1, 3, 100_001]),
                                 unit_price=st.one_of(st.none(), amounts), discount=st.one_of(st.none(), amounts)),
                       max_size=3),
        discount=st.one_of(st.none(), amounts), total=st.one_of(st.none(), amounts))),
    st.builds(lambda c: {"cart_change": c}, st.builds(
        event_pb2.CartChange, cart_id=ids, action=st.sampled_from([0, 1, 2, 3]), product_id=ids,
        quantity=st.sampled_from([0, 1, 100_001]), unit_price=st.one_of(st.none(), amounts))),
    st.builds(lambda v: {"product_view": v}, st.builds(event_pb2.ProductView, product_id=ids)),
    st.builds(lambda v: {"page_view": v}, st.builds(event_pb2.PageView, url=st.sampled_from(
        ["https://x.fr/a", "http://x", "ftp://x", "", "https://" + "a" * 5000]))),
    st.builds(lambda m: {"message_engagement": m}, st.builds(
        event_pb2.MessageEngagement, message_id=ids, channel=st.sampled_from([0, 1]), kind=st.sampled_from([0, 2]))),
    st.builds(lambda i: {"identify": i}, st.builds(event_pb2.Identify, first_name=st.sampled_from(["", "Ann"]),
                                                  locale=st.sampled_from(["", "fr_FR", "??"]))),
)


@settings(max_examples=1500, deadline=None)
@given(payload=payloads)
def test_quick_checks_change_nothing_but_the_cost(payload: dict) -> None:
    """Whatever the payload, the result is the one every rule gives: same reasons, products, normalised event."""
    quick, full = event(**payload), event(**payload)
    with_quick = validator.validate(0, quick, NOW)
    saved = dict(QUICK_CHECKS)
    QUICK_CHECKS.clear()
    try:
        every_rule = validator.validate(0, full, NOW)
    finally:
        QUICK_CHECKS.update(saved)
    assert with_quick.errors == every_rule.errors
    assert with_quick.product_ids == every_rule.product_ids
    assert quick == full and with_quick.payload == every_rule.payload
