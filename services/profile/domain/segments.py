"""Segments for time-based triggers, as plain values, and the windows they use.

Storage turns a SegmentSpec into one set-based SQL query (storage.segments);
what is decided here is pure: which 24-hour window "N days ago" means
(and, in domain.zones, which (month, day) is "today" in which zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from services.profile.domain.lifecycle import LifecycleStage


@dataclass(frozen=True)
class BirthdayToday:
    """Birthday today in the customer's own zone."""


@dataclass(frozen=True)
class LastOrderContaining:
    """Last purchase `days_ago` days before as_of, with a product of `category`; pack sizes may wait longer."""

    category: str
    days_ago: int
    days_ago_by_pack_size: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RepurchaseOverdue:
    """Days since the last purchase > factor × the customer's usual interval."""

    factor: float = 1.2
    within_days: int = 0  # only those who became overdue in the last N days (0: all)
    min_orders: int = 2


class SegmentField(Enum):
    DAYS_SINCE_LAST_ORDER = "days_since_last_order"
    DAYS_SINCE_FIRST_ORDER = "days_since_first_order"
    ORDER_COUNT = "order_count"
    MONETARY_VALUE = "monetary_value"
    AVERAGE_INTERVAL_DAYS = "average_interval_days"
    PROMO_SENSITIVITY = "promo_sensitivity"


class Comparison(Enum):
    LESS = "<"
    LESS_OR_EQUAL = "<="
    GREATER = ">"
    GREATER_OR_EQUAL = ">="
    EQUAL = "="
    NOT_EQUAL = "!="


@dataclass(frozen=True)
class Condition:
    field: SegmentField
    comparison: Comparison
    value: float


SegmentKind = BirthdayToday | LastOrderContaining | RepurchaseOverdue | None


@dataclass(frozen=True)
class SegmentSpec:
    kind: SegmentKind = None
    contactable_on: tuple[str, ...] = ()
    lifecycle_stages: tuple[LifecycleStage, ...] = ()
    conditions: tuple[Condition, ...] = ()


def days_ago_window(as_of: datetime, days_ago: int) -> tuple[datetime, datetime]:
    """The 24 hours ending `days_ago` days before `as_of`: (start excluded, end included).

    A daily run at the same hour therefore sees each order exactly once.
    """
    end = as_of - timedelta(days=days_ago)
    return end - timedelta(days=1), end
