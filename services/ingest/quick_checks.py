"""Quick checks of payloads: True when a payload certainly passes every rule of `validation.EventValidator`
(and needs no normalisation but the order kind's default); False sends it through the full checks, which name
what is wrong. Most events are good, and these cost a fraction of the full walk (no field paths, no reasons).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from services.ingest.domain import rules
from services.ingest.domain.currencies import ISO_4217


class _Result(Protocol):
    product_ids: list[str]


def _good_id(value: str) -> bool:
    """What rules.check_required_id accepts unchanged."""
    return 0 < len(value) <= rules.MAX_ID_LENGTH and value.isprintable() and not value.isspace() \
        and value == value.strip()


def _good_amount(money: money_pb2.Money, currency: str) -> bool:
    """A non-negative amount within range, in `currency` (a valid, upper-case ISO 4217 code)."""
    return money.currency_code == currency and 0 <= money.units <= rules.MAX_UNITS \
        and 0 <= money.nanos < rules.NANOS_PER_UNIT


def _quick_page_view(page_view: event_pb2.PageView, result: _Result) -> bool:
    url = page_view.url
    return url.startswith(("http://", "https://")) and len(url) <= 4096


def _quick_product_view(view: event_pb2.ProductView, result: _Result) -> bool:
    return _good_id(view.product_id)


def _quick_cart_change(cart: event_pb2.CartChange, result: _Result) -> bool:
    if not _good_id(cart.cart_id) or cart.action == event_pb2.CART_ACTION_UNSPECIFIED:
        return False
    if cart.HasField("unit_price"):
        price = cart.unit_price
        if price.currency_code not in ISO_4217 or not _good_amount(price, price.currency_code):
            return False
    if cart.action == event_pb2.CART_ACTION_CLEAR:
        return True
    product_id = cart.product_id
    if not (_good_id(product_id) and 0 < cart.quantity <= rules.MAX_QUANTITY):
        return False
    result.product_ids.append(product_id)
    return True


def _quick_order(order: event_pb2.Order, result: _Result) -> bool:
    lines = order.lines
    if not lines or not _good_id(order.order_id):
        return False
    if order.kind == event_pb2.ORDER_KIND_RETURN and order.original_order_id \
            and not _good_id(order.original_order_id):
        return False
    currency = lines[0].unit_price.currency_code
    if currency not in ISO_4217:
        return False
    product_ids = []
    for line in lines:
        if not (_good_id(line.product_id) and 0 < line.quantity <= rules.MAX_QUANTITY
                and line.HasField("unit_price") and _good_amount(line.unit_price, currency)
                and line.quantity * line.unit_price.units <= rules.MAX_UNITS):
            return False
        if line.HasField("discount") and not _good_amount(line.discount, currency):
            return False
        product_ids.append(line.product_id)
    if (order.HasField("discount") and not _good_amount(order.discount, currency)) \
            or (order.HasField("total") and not _good_amount(order.total, currency)):
        return False
    if order.kind == event_pb2.ORDER_KIND_UNSPECIFIED:
        order.kind = event_pb2.ORDER_KIND_PURCHASE  # documented default
    result.product_ids.extend(product_ids)
    return True


def _quick_message_engagement(engagement: event_pb2.MessageEngagement, result: _Result) -> bool:
    return _good_id(engagement.message_id) and engagement.channel != identity_pb2.CHANNEL_UNSPECIFIED \
        and engagement.kind != event_pb2.ENGAGEMENT_KIND_UNSPECIFIED


def _quick_identify(identify: event_pb2.Identify, result: _Result) -> bool:
    # Only the plain case: anything with a date, locale, zone, consents or attributes gets every rule.
    return not (identify.birth_date or identify.locale or identify.timezone or identify.consents
                or identify.attributes)


QUICK_CHECKS: dict[str, Callable[[Any, _Result], bool]] = {
    "page_view": _quick_page_view,
    "product_view": _quick_product_view,
    "cart_change": _quick_cart_change,
    "order": _quick_order,
    "message_engagement": _quick_message_engagement,
    "identify": _quick_identify,
}
