"""The hand-off from ingest, translated from protobuf into profile's commands (the edge, no rules here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import channel_name, identifier_type_name, to_datetime
from services.profile.domain.commands import (
    PURCHASE,
    RETURN,
    ApplyEvent,
    EraseCustomer,
    EventAction,
    EventContext,
    HandoffCommand,
    MergeCustomers,
    OrderLineFact,
    RecordEngagement,
    RecordInterest,
    RecordOrder,
    SplitCustomer,
    UpdateContact,
    UpsertProduct,
)
from services.profile.domain.consents import DENIED, GRANTED, Consent

PACK_SIZE_ATTRIBUTES = ("pack_size", "size")


def to_cents(money: money_pb2.Money) -> int:
    """Money → integer hundredths (units and nanos share their sign)."""
    return money.units * 100 + money.nanos // 10_000_000


_type_name = cache(identifier_type_name)  # a few types, named for every identifier of every record


def identifiers_of(found: Iterable[identity_pb2.Identifier]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (_type_name(identifier.type), identifier.value)
        for identifier in found
        if identifier.type != identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED and identifier.value
    )


def consent_of(consent: identity_pb2.Consent, default_time: datetime) -> Consent | None:
    if consent.channel == identity_pb2.CHANNEL_UNSPECIFIED or consent.state == identity_pb2.CONSENT_STATE_UNSPECIFIED:
        return None
    basis = identity_pb2.LegalBasis.Name(consent.legal_basis).removeprefix("LEGAL_BASIS_").lower()
    return Consent(
        channel=channel_name(consent.channel),
        state=GRANTED if consent.state == identity_pb2.CONSENT_STATE_GRANTED else DENIED,
        legal_basis="" if basis == "unspecified" else basis,
        source=consent.source,
        given_at=to_datetime(consent.time) if consent.HasField("time") else default_time,
    )


def order_of(order: event_pb2.Order) -> RecordOrder:
    lines = []
    line_total = 0
    discount = to_cents(order.discount)
    for line in order.lines:
        amount = line.quantity * to_cents(line.unit_price) - to_cents(line.discount)
        discount += to_cents(line.discount)
        line_total += amount
        lines.append(OrderLineFact(line.product_id, line.category, line.quantity, amount))
    currency = order.total.currency_code or next((line.unit_price.currency_code for line in order.lines), "")
    has_total = order.HasField("total") and (order.total.units or order.total.nanos)
    amount = to_cents(order.total) if has_total else line_total - to_cents(order.discount)
    if order.promo_code and discount == 0:
        discount = 1  # a promo code with no amount given still counts as a discounted purchase
    return RecordOrder(
        order_id=order.order_id,
        kind=RETURN if order.kind == event_pb2.ORDER_KIND_RETURN else PURCHASE,
        amount_cents=amount,
        discount_cents=discount,
        currency=currency,
        channel=event_pb2.OrderChannel.Name(order.channel).removeprefix("ORDER_CHANNEL_").lower(),
        original_order_id=order.original_order_id,
        lines=tuple(lines),
    )


def action_of(event: event_pb2.Event, event_time: datetime) -> EventAction:
    payload = event.WhichOneof("payload")
    if payload == "identify":
        identify = event.identify
        consents = tuple(c for c in (consent_of(c, event_time) for c in identify.consents) if c is not None)
        return UpdateContact(identify.first_name, identify.last_name, identify.birth_date, identify.locale,
                             identify.timezone, consents, dict(identify.attributes))
    if payload == "order":
        return order_of(event.order)
    if payload == "product_view":
        return RecordInterest("view", event.product_view.product_id, event.product_view.category)
    if payload == "page_view" and event.page_view.category:
        return RecordInterest("view", "", event.page_view.category)
    if payload == "cart_change" and event.cart_change.action == event_pb2.CART_ACTION_ADD:
        return RecordInterest("cart", event.cart_change.product_id, "")
    if payload == "message_engagement":
        engagement = event.message_engagement
        kind = event_pb2.EngagementKind.Name(engagement.kind).removeprefix("ENGAGEMENT_KIND_").lower()
        return RecordEngagement(channel_name(engagement.channel), kind, engagement.message_id)
    if payload == "product_upsert":
        product = event.product_upsert
        attributes = dict(product.attributes)
        pack_size = next((attributes[key] for key in PACK_SIZE_ATTRIBUTES if attributes.get(key)), "")
        category = product.category or (product.categories[0] if product.categories else "")
        return UpsertProduct(product.product_id, product.name, category, pack_size.upper(), attributes)
    return None


def event_command(accepted: handoff_pb2.AcceptedEvent, fallback_time: datetime) -> ApplyEvent:
    """An accepted event; without an event time (ingest requires one) it counts as received at `fallback_time`."""
    event = accepted.event
    if event.HasField("event_time"):
        event_time = to_datetime(event.event_time)
    else:
        event_time = to_datetime(accepted.received_at) if accepted.HasField("received_at") else fallback_time
    context = EventContext(event.event_id, event.source, event_time, accepted.customer_id,
                           identifiers_of(event.identifiers))
    return ApplyEvent(context, action_of(event, event_time))


def merge_command(merged: handoff_pb2.CustomersMerged) -> MergeCustomers:
    return MergeCustomers(merged.survivor_id, tuple(merged.merged_ids), merged.cause_event_id)


def split_command(split: handoff_pb2.CustomerSplit) -> SplitCustomer:
    return SplitCustomer(split.from_customer_id, split.new_customer_id, identifiers_of(split.identifiers))


def erase_command(erased: handoff_pb2.CustomerErased) -> EraseCustomer:
    return EraseCustomer(erased.customer_id, tuple(erased.identifier_hashes))


def command_of(record: handoff_pb2.HandoffRecord, fallback_time: datetime) -> HandoffCommand | None:
    """The command a whole hand-off record asks for; None for records profile has nothing to do with. An event
    without a time of its own counts as received at `fallback_time` (see event_command)."""
    body = record.WhichOneof("body")
    if body == "accepted_event":
        return event_command(record.accepted_event, fallback_time)
    if body == "customers_merged":
        return merge_command(record.customers_merged)
    if body == "customer_split":
        return split_command(record.customer_split)
    if body == "customer_erased":
        return erase_command(record.customer_erased)
    return None
