"""The call-center summary of one customer: who, how to reach them, what they buy, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.profile.domain.appetence import Appetence
from services.profile.domain.consents import Consent
from services.profile.domain.contactability import Contactability
from services.profile.domain.lifecycle import LifecycleStage
from services.profile.domain.orders import OrderStats
from services.profile.domain.rfm import Rfm


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    kind: str
    ordered_at: datetime
    amount_cents: int
    discount_cents: int
    currency: str
    channel: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class ProfileSummary:
    customer_id: str
    identifiers: list[tuple[str, str]]
    first_name: str
    last_name: str
    birth_date: str
    locale: str
    timezone: str
    attributes: dict[str, str]
    consents: list[Consent]
    contactability: list[Contactability]
    created_at: datetime | None
    stats: OrderStats
    lifecycle_stage: LifecycleStage
    rfm: Rfm
    rfm_window_days: int
    as_of: datetime
    appetences: list[Appetence] = field(default_factory=list)
    preferred_channel: str = ""
    last_orders: list[OrderSummary] = field(default_factory=list)
    # Why each computed field has its value: field name → sentence.
    explanations: dict[str, str] = field(default_factory=dict)
