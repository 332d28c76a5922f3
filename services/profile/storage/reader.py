"""Reading one customer's whole summary in three statements (a call-center lookup must answer in
milliseconds): the customer row, every per-customer list in one UNION ALL, and the last orders
with the RFM window figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime
from services.profile.domain.commands import PURCHASE
from services.profile.domain.consents import Consent
from services.profile.domain.summary import OrderSummary
from services.profile.storage.tables import (
    appetences,
    channel_blocks,
    consents,
    customers,
    engagement_counts,
    identifiers,
    order_lines,
    orders,
)

MAX_MERGE_CHAIN = 20


@dataclass
class StoredProfile:
    """What is stored about one customer, as read; computed attributes are derived from it."""

    row: Any
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    consents: dict[str, Consent] = field(default_factory=dict)
    blocks: dict[tuple[str, str], str] = field(default_factory=dict)
    engagement: dict[str, dict[str, int]] = field(default_factory=dict)
    appetences: list[tuple[str, str, float, int]] = field(default_factory=list)  # dimension, value, score, anchor
    last_orders: list[OrderSummary] = field(default_factory=list)
    window_orders: int = 0
    window_cents: int = 0


def _text(value: object) -> Any:
    return cast(value, String) if not isinstance(value, str) else literal(value, String)


def _branch(section: str, table: Any, a: Any, b: Any, c: Any = "", d: Any = "",
            number: Any = None, anchor: Any = None, at: Any = None) -> Select:
    """One arm of the UNION ALL: (section, a, b, c, d, number, anchor, at) with fixed types."""
    return select(
        literal(section, String).label("section"), _text(a).label("a"), _text(b).label("b"), _text(c).label("c"),
        _text(d).label("d"),
        cast(number if number is not None else null(), Float).label("number"),
        cast(anchor if anchor is not None else null(), BigInteger).label("anchor"),
        # type_coerce, not CAST: the arms are timestamps already; only the result's Python type is declared.
        type_coerce(at if at is not None else null(), UtcDateTime()).label("at"),
    ).where(table.c.customer_id == bindparam("customer_id"))


# Built once: constructing these statements costs more than running them.
LISTS = union_all(
    _branch("identifier", identifiers, identifiers.c.id_type, identifiers.c.value),
    _branch("consent", consents, consents.c.channel, consents.c.state, consents.c.legal_basis, consents.c.source,
            at=consents.c.given_at),
    _branch("block", channel_blocks, channel_blocks.c.channel, channel_blocks.c.address, channel_blocks.c.reason),
    _branch("engagement", engagement_counts, engagement_counts.c.channel, engagement_counts.c.kind,
            number=engagement_counts.c.count),
    _branch("appetence", appetences, appetences.c.dimension, appetences.c.value, number=appetences.c.score,
            anchor=appetences.c.anchor_ts),
)
BY_IDENTIFIER = (select(customers).join(identifiers, identifiers.c.customer_id == customers.c.customer_id)
                 .where(identifiers.c.id_type == bindparam("id_type"), identifiers.c.value == bindparam("value")))
BY_ID = select(customers).where(customers.c.customer_id == bindparam("customer_id"))


def _orders_statement() -> Select:
    """The last orders with their categories, and the purchases and net value in the RFM window."""
    is_purchase = orders.c.kind == PURCHASE
    in_window = and_(orders.c.customer_id == bindparam("customer_id"), orders.c.ordered_ts > bindparam("since"),
                     orders.c.ordered_ts <= bindparam("until"))
    window_count = select(func.count()).where(in_window, is_purchase).scalar_subquery()
    window_cents = select(func.coalesce(func.sum(
        case((is_purchase, orders.c.amount_cents), else_=-orders.c.amount_cents)), 0)).where(in_window)
    last = (select(orders).where(orders.c.customer_id == bindparam("customer_id"))
            .order_by(orders.c.ordered_ts.desc(), orders.c.order_id).limit(bindparam("limit")).subquery())
    lines = and_(order_lines.c.order_id == last.c.order_id, order_lines.c.kind == last.c.kind)
    return select(last, order_lines.c.category, window_count.label("window_count"),
                  window_cents.scalar_subquery().label("window_cents")).distinct().select_from(
        last.outerjoin(order_lines, lines))


LAST_ORDERS = _orders_statement()


class SummaryReader:
    def __init__(self, session: Session) -> None:
        self._session = session

    def by_identifier(self, id_type: str, value: str) -> Any:
        """The customer row owning an identifier (possibly merged away or erased), or None."""
        return self._session.execute(BY_IDENTIFIER, {"id_type": id_type, "value": value}).first()

    def by_id(self, customer_id: str) -> Any:
        return self._session.execute(BY_ID, {"customer_id": customer_id}).first()

    def surviving(self, row: Any) -> Any:
        """Follow merges from a row to the survivor's row (None if the chain is broken)."""
        for _ in range(MAX_MERGE_CHAIN):
            if row is None or row.survivor_id is None:
                return row
            row = self.by_id(row.survivor_id)
        raise RuntimeError("merge chain too long")

    def load(self, row: Any, last_orders: int, window_start_ts: int, as_of_ts: int) -> StoredProfile:
        stored = StoredProfile(row)
        self._load_lists(stored)
        if row.order_count or row.monetary_cents:
            self._load_orders(stored, last_orders, window_start_ts, as_of_ts)
        return stored

    def _load_lists(self, stored: StoredProfile) -> None:
        for r in self._session.execute(LISTS, {"customer_id": stored.row.customer_id}):
            if r.section == "identifier":
                stored.identifiers.append((r.a, r.b))
            elif r.section == "consent":
                stored.consents[r.a] = Consent(r.a, r.b, r.c, r.d, r.at)
            elif r.section == "block":
                stored.blocks[(r.a, r.b)] = r.c
            elif r.section == "engagement":
                stored.engagement.setdefault(r.a, {})[r.b] = int(r.number)
            else:
                stored.appetences.append((r.a, r.b, float(r.number), int(r.anchor)))
        stored.identifiers.sort()

    def _load_orders(self, stored: StoredProfile, limit: int, window_start_ts: int, as_of_ts: int) -> None:
        parameters = {"customer_id": stored.row.customer_id, "since": window_start_ts, "until": as_of_ts,
                      "limit": max(limit, 1)}
        found: dict[tuple[str, str], tuple[Any, set[str]]] = {}
        for r in self._session.execute(LAST_ORDERS, parameters):
            stored.window_orders, stored.window_cents = int(r.window_count), int(r.window_cents)
            entry = found.setdefault((r.order_id, r.kind), (r, set()))
            if r.category:
                entry[1].add(r.category)
        ordered: Sequence[tuple[Any, set[str]]] = sorted(found.values(), key=lambda e: (-e[0].ordered_ts,
                                                                                        e[0].order_id))
        stored.last_orders = [
            OrderSummary(r.order_id, r.kind, r.ordered_at, r.amount_cents, r.discount_cents, r.currency, r.channel,
                         tuple(sorted(categories)))
            for r, categories in ordered[:limit]
        ]
