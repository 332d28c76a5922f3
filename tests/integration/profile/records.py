"""Builders of HandoffRecords, shaped the way ingest hands them off (normalised identifiers,
customer ids set), to drive profile through its real contract: the hand-off stream."""

from __future__ import annotations

import uuid
from datetime import datetime

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import channel_enum, identifier_type_enum, to_timestamp


def ident(id_type: str, value: str) -> identity_pb2.Identifier:
    return identity_pb2.Identifier(type=identifier_type_enum(id_type), value=value)


def money(amount: float, currency: str = "EUR") -> money_pb2.Money:
    cents = round(amount * 100)
    units = int(cents / 100)
    return money_pb2.Money(currency_code=currency, units=units, nanos=(cents - units * 100) * 10_000_000)


def consent(channel: str, granted: bool, at: datetime, source: str = "web-signup-form",
            basis: int = identity_pb2.LEGAL_BASIS_CONSENT) -> identity_pb2.Consent:
    return identity_pb2.Consent(
        channel=channel_enum(channel),
        state=identity_pb2.CONSENT_STATE_GRANTED if granted else identity_pb2.CONSENT_STATE_DENIED,
        legal_basis=basis, source=source, time=to_timestamp(at),
    )


def accepted(customer_id: str, at: datetime, identifiers: list[identity_pb2.Identifier] | None = None,
             record_id: str | None = None, new_customer: bool = False, **payload: object) -> handoff_pb2.HandoffRecord:
    event_id = record_id or uuid.uuid4().hex
    event = event_pb2.Event(event_id=event_id, source="test", event_time=to_timestamp(at),
                            identifiers=identifiers or [], **payload)  # type: ignore[arg-type]
    return handoff_pb2.HandoffRecord(
        record_id=f"rec-{event_id}", recorded_at=to_timestamp(at),
        accepted_event=handoff_pb2.AcceptedEvent(event=event, customer_id=customer_id, received_at=to_timestamp(at),
                                                 new_customer=new_customer),
    )


def identify(customer_id: str, at: datetime, identifiers: list[identity_pb2.Identifier], *,
             consents: list[identity_pb2.Consent] | None = None, record_id: str | None = None,
             **fields: object) -> handoff_pb2.HandoffRecord:
    attributes = fields.pop("attributes", {})
    return accepted(customer_id, at, identifiers, record_id,
                    identify=event_pb2.Identify(consents=consents or [], attributes=attributes, **fields))


def order(customer_id: str, at: datetime, order_id: str, lines: list[tuple[str, str, int, float]], *,
          kind: int = event_pb2.ORDER_KIND_PURCHASE, discount: float = 0.0, promo_code: str = "",
          identifiers: list[identity_pb2.Identifier] | None = None,
          record_id: str | None = None) -> handoff_pb2.HandoffRecord:
    """`lines`: (product_id, category, quantity, unit_price)."""
    order_lines = [
        event_pb2.OrderLine(product_id=p, category=c, quantity=q, unit_price=money(u)) for p, c, q, u in lines
    ]
    body = event_pb2.Order(order_id=order_id, kind=kind, lines=order_lines, promo_code=promo_code,
                           channel=event_pb2.ORDER_CHANNEL_ONLINE)
    if discount:
        body.discount.CopyFrom(money(discount))
    return accepted(customer_id, at, identifiers, record_id, order=body)


def merged(survivor_id: str, merged_ids: list[str], at: datetime) -> handoff_pb2.HandoffRecord:
    return handoff_pb2.HandoffRecord(
        record_id=f"merge-{uuid.uuid4().hex}", recorded_at=to_timestamp(at),
        customers_merged=handoff_pb2.CustomersMerged(survivor_id=survivor_id, merged_ids=merged_ids),
    )
