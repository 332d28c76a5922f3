"""What the hand-off asks profile to do, as plain values (translated from protobuf at the edge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.profile.domain.consents import Consent

PURCHASE, RETURN = "purchase", "return"


@dataclass(frozen=True)
class EventContext:
    """Who an accepted event is about, and when it happened at the source."""

    event_id: str
    source: str
    event_time: datetime
    customer_id: str
    identifiers: tuple[tuple[str, str], ...] = ()  # (type, normalised value)


@dataclass(frozen=True)
class UpdateContact:
    """An `identify` event: non-empty fields update the profile if newer than what set them."""

    first_name: str = ""
    last_name: str = ""
    birth_date: str = ""
    locale: str = ""
    timezone: str = ""
    consents: tuple[Consent, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderLineFact:
    product_id: str
    category: str
    quantity: int
    amount_cents: int


@dataclass(frozen=True)
class RecordOrder:
    """A purchase, or a return (amounts positive, they reduce value)."""

    order_id: str
    kind: str  # PURCHASE or RETURN
    amount_cents: int  # net of discounts
    discount_cents: int
    currency: str
    channel: str
    original_order_id: str = ""
    lines: tuple[OrderLineFact, ...] = ()


@dataclass(frozen=True)
class RecordInterest:
    """A browsing signal feeding appetences: "view" or "cart"."""

    kind: str
    product_id: str = ""
    category: str = ""


@dataclass(frozen=True)
class RecordEngagement:
    """What the person did with a message: opened, clicked, unsubscribed, bounced, ..."""

    channel: str
    kind: str
    message_id: str = ""


@dataclass(frozen=True)
class UpsertProduct:
    """A catalogue change: profile keeps categories, pack sizes and attributes for appetences and segments."""

    product_id: str
    name: str
    category: str
    pack_size: str
    attributes: dict[str, str] = field(default_factory=dict)


EventAction = UpdateContact | RecordOrder | RecordInterest | RecordEngagement | UpsertProduct | None


@dataclass(frozen=True)
class ApplyEvent:
    """An accepted event: its identifiers always attach to the customer; `action` does the rest."""

    context: EventContext
    action: EventAction


@dataclass(frozen=True)
class MergeCustomers:
    survivor_id: str
    merged_ids: tuple[str, ...]
    cause_event_id: str = ""


@dataclass(frozen=True)
class SplitCustomer:
    from_customer_id: str
    new_customer_id: str
    identifiers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EraseCustomer:
    customer_id: str
    identifier_hashes: tuple[str, ...] = ()


HandoffCommand = ApplyEvent | MergeCustomers | SplitCustomer | EraseCustomer
