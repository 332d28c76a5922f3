"""Every shape of event ingest accepts: each payload kind with its optional fields empty and full, each enum's known
values, and the boundary values the door lets through (docs/requests.md; ingest's own rules)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit.protoconv import to_timestamp

LONG = 1024
"""The door's longest string (docs/requests.md)."""
LONG_URL = "https://shop.example.com/" + "u" * (4096 - 25)
MANY = 100
"""The door's most items in a list or map."""
MAX_UNITS = 10**12
"""Ingest's largest amount (services/ingest/domain/rules.py), and its largest quantity:"""
MAX_QUANTITY = 100_000
MAX_CONTEXT = 50
"""Ingest's most entries in an event's context."""
EARLIEST = Timestamp(seconds=int(datetime(1900, 1, 1, tzinfo=UTC).timestamp()))
LATEST = Timestamp(seconds=int(datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()), nanos=999_999_999)


def _text(size: int, letter: str = "x") -> str:
    return letter * size


def _money(units: int = 12, nanos: int = 500_000_000) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def _full_map(size: int = MANY) -> dict[str, str]:
    return {f"{n:03d}" + _text(253, "k"): _text(1000, "v") for n in range(size)}


def _identifies() -> Iterator[event_pb2.Identify]:
    yield event_pb2.Identify()
    channels = [value for value in identity_pb2.Channel.values() if value]
    states = [value for value in identity_pb2.ConsentState.values() if value]
    consents = [identity_pb2.Consent(channel=channel, state=state, legal_basis=basis, source=_text(LONG), time=time)
                for (channel, state, basis), time in zip(
                    itertools.product(channels, states, identity_pb2.LegalBasis.values()),
                    itertools.cycle([EARLIEST, LATEST, None]), strict=False)]
    for part in range(0, len(consents), MANY):
        yield event_pb2.Identify(consents=consents[part:part + MANY])
    yield event_pb2.Identify(first_name=_text(LONG, "é"), last_name=_text(LONG), birth_date="1900-01-01",
                             locale="fr-FR", timezone="Pacific/Kiritimati", attributes=_full_map(), reason=_text(LONG))
    yield event_pb2.Identify(birth_date="0000-02-29", locale="en", timezone="UTC", reason="signup")


def _orders() -> Iterator[event_pb2.Order]:
    line = event_pb2.OrderLine(product_id="p-1", quantity=1, unit_price=_money())
    for channel, kind in itertools.product(event_pb2.OrderChannel.values(), event_pb2.OrderKind.values()):
        original = "o-original" if kind == event_pb2.ORDER_KIND_RETURN else ""
        yield event_pb2.Order(order_id=f"o-{channel}-{kind}", channel=channel, kind=kind, lines=[line],
                              original_order_id=original)
    biggest = event_pb2.OrderLine(product_id=_text(128, "p"), quantity=MAX_QUANTITY,
                                  unit_price=_money(MAX_UNITS // MAX_QUANTITY, 0),  # the largest line total
                                  discount=_money(MAX_UNITS, 999_999_999),
                                  category=_text(LONG), description=_text(LONG))
    yield event_pb2.Order(order_id=_text(128, "o"), channel=event_pb2.ORDER_CHANNEL_STORE, lines=[biggest] * 1000,
                          discount=_money(MAX_UNITS, 999_999_999), total=_money(MAX_UNITS, 999_999_999),
                          store_id=_text(LONG), loyalty_card=_text(LONG), promo_code=_text(LONG), country="FR")
    yield event_pb2.Order(order_id="o-free", lines=[event_pb2.OrderLine(
        product_id="p-free", quantity=1, unit_price=money_pb2.Money(currency_code="EUR"))],
        total=money_pb2.Money(currency_code="EUR"))


def payloads() -> Iterator[dict[str, object]]:
    """Keyword arguments of `event_pb2.Event` for one payload each."""
    for identify in _identifies():
        yield {"identify": identify}
    yield {"page_view": event_pb2.PageView(url="https://shop.example.com/")}
    yield {"page_view": event_pb2.PageView(url=LONG_URL, title=_text(LONG), referrer=LONG_URL, category=_text(LONG))}
    yield {"product_view": event_pb2.ProductView(product_id="p-1")}
    yield {"product_view": event_pb2.ProductView(product_id=_text(128, "p"), category=_text(LONG),
                                                 interaction=_text(LONG))}
    for action in (event_pb2.CART_ACTION_ADD, event_pb2.CART_ACTION_REMOVE):
        yield {"cart_change": event_pb2.CartChange(cart_id="cart-1", action=action, product_id="p-1", quantity=1)}
        yield {"cart_change": event_pb2.CartChange(
            cart_id=_text(128, "c"), action=action, product_id=_text(128, "p"), quantity=MAX_QUANTITY,
            unit_price=_money(MAX_UNITS // MAX_QUANTITY, 0))}
    yield {"cart_change": event_pb2.CartChange(cart_id="cart-1", action=event_pb2.CART_ACTION_CLEAR)}
    for order in _orders():
        yield {"order": order}
    yield {"product_upsert": event_pb2.ProductUpsert(product_id="p-1", name="Dog food")}
    yield {"product_upsert": event_pb2.ProductUpsert(product_id="p-gone", deleted=True)}
    yield {"product_upsert": event_pb2.ProductUpsert(
        product_id=_text(128, "p"), name=_text(LONG), category=_text(LONG), categories=[_text(LONG)] * MANY,
        price=_money(MAX_UNITS, 999_999_999), in_stock=True, attributes={**_full_map(MANY - 1), "size": "XL"})}
    for channel, kind in itertools.product(identity_pb2.Channel.values()[1:], event_pb2.EngagementKind.values()[1:]):
        yield {"message_engagement": event_pb2.MessageEngagement(message_id=f"m-{channel}-{kind}", channel=channel,
                                                                 kind=kind)}
    yield {"message_engagement": event_pb2.MessageEngagement(
        message_id=_text(128, "m"), channel=identity_pb2.CHANNEL_EMAIL, kind=event_pb2.ENGAGEMENT_KIND_CLICKED,
        url=LONG_URL, scenario_id=_text(LONG))}


def identifiers(person: int) -> list[identity_pb2.Identifier]:
    """One identifier of each type for `person`, the last one of the longest accepted form."""
    kinds = identity_pb2.IdentifierType
    return [identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_EMAIL"), value=f"p{person}@example.com"),
            identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_PHONE"), value=f"+3361{person:07d}"),
            identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_LOYALTY_CARD"), value=f"LC{person}"),
            identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_ANONYMOUS_ID"), value=f"anon-{person}"),
            identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_DEVICE_ID"), value=f"dev-{person}"),
            identity_pb2.Identifier(type=kinds.Value("IDENTIFIER_TYPE_CRM_ID"), value=f"{person:06d}" + "c" * 122)]


def events(now: datetime) -> list[event_pb2.Event]:
    """Every shape, each of its own person (catalogue changes of nobody); then one event proving two of them one
    person (a merge); event times now, the earliest the door allows, and one just before the future limit."""
    found = []
    times = itertools.cycle([to_timestamp(now - timedelta(minutes=1)), EARLIEST, to_timestamp(now)])
    for number, payload in enumerate(payloads()):
        catalogue = "product_upsert" in payload
        found.append(event_pb2.Event(
            event_id=f"shape-{number}", source="shapes", event_time=next(times),
            identifiers=[] if catalogue else identifiers(number)[:1 + number % 6],
            context=_full_map(MAX_CONTEXT) if number % 5 == 0 else {"campaign": "spring"}, **payload))
    found.append(event_pb2.Event(event_id=_text(128, "e"), source=_text(64, "s"), event_time=to_timestamp(now),
                                 identifiers=identifiers(1)[:1] + identifiers(2)[:1],
                                 page_view=event_pb2.PageView(url="https://shop.example.com/merge")))
    return found
