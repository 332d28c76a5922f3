"""RFM: recency, frequency and monetary value over a window, each scored 1–5 on configured bounds."""

from __future__ import annotations

from dataclasses import dataclass

from services.profile.domain.rules import RfmRules


@dataclass(frozen=True)
class Rfm:
    days_since_last_order: float | None
    frequency: int  # purchases in the window
    monetary_cents: int  # purchases − returns in the window
    recency_score: int  # 0 when the customer never ordered
    frequency_score: int
    monetary_score: int

    @property
    def code(self) -> str:
        """"545" style: recency, frequency, monetary scores ("" without orders)."""
        if not self.recency_score:
            return ""
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"


def recency_score(days: float | None, rules: RfmRules) -> int:
    """5 for a recent buyer … 1 beyond the last bound; 0 for someone who never bought."""
    if days is None:
        return 0
    within = sum(1 for bound in rules.recency_days if days <= bound)
    return 1 + within


def frequency_score(orders: int, rules: RfmRules) -> int:
    """1 + the number of bounds strictly passed; 0 with no order in the window."""
    if orders <= 0:
        return 0
    return 1 + sum(1 for bound in rules.frequency_orders if orders > bound)


def monetary_score(monetary_cents: int, order_count: int, rules: RfmRules) -> int:
    """1 + the number of bounds strictly passed (in currency units); 0 with no order in the window."""
    if order_count <= 0:
        return 0
    units = monetary_cents / 100
    return 1 + sum(1 for bound in rules.monetary_units if units > bound)


def compute_rfm(days_since_last_order: float | None, window_orders: int, window_monetary_cents: int,
                rules: RfmRules) -> Rfm:
    """The RFM of one customer from their figures over the window."""
    return Rfm(
        days_since_last_order=days_since_last_order,
        frequency=window_orders,
        monetary_cents=window_monetary_cents,
        recency_score=recency_score(days_since_last_order, rules),
        frequency_score=frequency_score(window_orders, rules),
        monetary_score=monetary_score(window_monetary_cents, window_orders, rules),
    )


def explain_rfm(rfm: Rfm, rules: RfmRules) -> str:
    if not rfm.recency_score:
        return "no purchase yet"
    return (
        f"last order {rfm.days_since_last_order:.0f} days ago (recency bounds {list(rules.recency_days)} days → "
        f"{rfm.recency_score}); {rfm.frequency} orders in the last {rules.window_days} days (bounds "
        f"{list(rules.frequency_orders)} → {rfm.frequency_score}); {rfm.monetary_cents / 100:.2f} net in the "
        f"window (bounds {list(rules.monetary_units)} → {rfm.monetary_score})"
    )
