"""Order statistics and what is derived from them: usual interval, next expected order, promo-sensitivity.

Every figure comes from the set of stored orders, never from "the last
event seen", so late and out-of-order events give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DAY_SECONDS = 86_400


@dataclass(frozen=True)
class OrderStats:
    """Lifetime figures of one customer's purchases (returns only reduce `monetary_cents`)."""

    order_count: int = 0
    first_order_ts: int | None = None
    last_order_ts: int | None = None
    monetary_cents: int = 0
    discounted_order_count: int = 0
    currency: str = ""

    @property
    def first_order_at(self) -> datetime | None:
        return from_epoch(self.first_order_ts)

    @property
    def last_order_at(self) -> datetime | None:
        return from_epoch(self.last_order_ts)

    @property
    def average_interval_seconds(self) -> int | None:
        """Mean time between consecutive purchases: (last − first) / (orders − 1); None under two orders."""
        if self.order_count < 2 or self.first_order_ts is None or self.last_order_ts is None:
            return None
        return (self.last_order_ts - self.first_order_ts) // (self.order_count - 1)

    @property
    def average_interval_days(self) -> float | None:
        seconds = self.average_interval_seconds
        return None if seconds is None else seconds / DAY_SECONDS

    @property
    def next_order_expected_at(self) -> datetime | None:
        """Last order + usual interval: when this customer would normally buy again."""
        seconds = self.average_interval_seconds
        if seconds is None or self.last_order_ts is None:
            return None
        return from_epoch(self.last_order_ts + seconds)

    @property
    def promo_sensitivity(self) -> float:
        """Share of purchases made with a discount or promo code (0 when no purchase)."""
        return self.discounted_order_count / self.order_count if self.order_count else 0.0


def days_since(instant: datetime | None, as_of: datetime) -> float | None:
    """Days (fractional) from `instant` to `as_of`; None when there is no instant."""
    if instant is None:
        return None
    return (as_of - instant).total_seconds() / DAY_SECONDS


def to_epoch(instant: datetime) -> int:
    """Whole seconds since 1970 (UTC) — the form computed instants are stored in."""
    return int(instant.timestamp())


def from_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
