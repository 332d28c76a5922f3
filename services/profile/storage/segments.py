"""Segment specs turned into one set-based SQL query each (indexes do the narrowing; nothing per profile).

Every instant is compared as epoch seconds against the `*_ts` columns (plain
integer arithmetic, indexable).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session

from services.profile.domain.commands import PURCHASE
from services.profile.domain.lifecycle import LifecycleStage, least_cents_reaching
from services.profile.domain.orders import DAY_SECONDS, to_epoch
from services.profile.domain.rules import LifecycleRules
from services.profile.domain.segments import (
    BirthdayToday,
    Comparison,
    Condition,
    LastOrderContaining,
    RepurchaseOverdue,
    SegmentField,
    SegmentSpec,
    days_ago_window,
)
from services.profile.domain.zones import birthdays_today
from services.profile.storage.tables import ACTIVE, customers, order_lines

c = customers.c

# "days since X > v" is "X < as_of − v days": the comparison flips when the column is the instant itself.
FLIPPED = {Comparison.LESS: Comparison.GREATER, Comparison.LESS_OR_EQUAL: Comparison.GREATER_OR_EQUAL,
           Comparison.GREATER: Comparison.LESS, Comparison.GREATER_OR_EQUAL: Comparison.LESS_OR_EQUAL,
           Comparison.EQUAL: Comparison.EQUAL, Comparison.NOT_EQUAL: Comparison.NOT_EQUAL}


def compare(left: ColumnElement, comparison: Comparison, right: object) -> ColumnElement:
    return {
        Comparison.LESS: lambda: left < right,
        Comparison.LESS_OR_EQUAL: lambda: left <= right,
        Comparison.GREATER: lambda: left > right,
        Comparison.GREATER_OR_EQUAL: lambda: left >= right,
        Comparison.EQUAL: lambda: left == right,
        Comparison.NOT_EQUAL: lambda: left != right,
    }[comparison]()


def condition_clause(condition: Condition, as_of_ts: int) -> ColumnElement:
    """A comparison on a computed attribute; customers without a value (NULL) never match."""
    value, op = condition.value, condition.comparison
    if condition.field is SegmentField.DAYS_SINCE_LAST_ORDER:
        return compare(c.last_order_ts, FLIPPED[op], as_of_ts - value * DAY_SECONDS)
    if condition.field is SegmentField.DAYS_SINCE_FIRST_ORDER:
        return compare(c.first_order_ts, FLIPPED[op], as_of_ts - value * DAY_SECONDS)
    if condition.field is SegmentField.ORDER_COUNT:
        return compare(c.order_count, op, value)
    if condition.field is SegmentField.MONETARY_VALUE:
        return compare(c.monetary_cents, op, round(value * 100))
    if condition.field is SegmentField.AVERAGE_INTERVAL_DAYS:
        return compare(c.avg_interval_seconds, op, value * DAY_SECONDS)
    share = c.discounted_order_count * 1.0 / func.nullif(c.order_count, 0)
    return compare(share, op, value)


def lifecycle_case(as_of_ts: int, rules: LifecycleRules) -> ColumnElement:
    """domain.lifecycle.lifecycle_stage as a SQL CASE, same rules in the same order."""
    since_last = literal(as_of_ts) - c.last_order_ts
    return case(
        (or_(c.order_count == 0, c.last_order_ts.is_(None)), LifecycleStage.PROSPECT.value),
        (since_last > rules.lapsed_after_days * DAY_SECONDS, LifecycleStage.LAPSED.value),
        (since_last > rules.at_risk_after_days * DAY_SECONDS, LifecycleStage.AT_RISK.value),
        (and_(c.avg_interval_seconds.is_not(None), since_last > rules.at_risk_min_days * DAY_SECONDS,
              since_last > c.avg_interval_seconds * rules.at_risk_interval_factor), LifecycleStage.AT_RISK.value),
        (and_(c.order_count >= rules.loyal_min_orders,
              c.monetary_cents >= least_cents_reaching(rules.loyal_min_value_units)), LifecycleStage.LOYAL.value),
        (literal(as_of_ts) - c.first_order_ts <= rules.new_customer_days * DAY_SECONDS,
         LifecycleStage.NEW_CUSTOMER.value),
        else_=LifecycleStage.ACTIVE.value,
    )


def effective_zone(default_timezone: str) -> ColumnElement:
    """The zone given by the person, else the one inferred from their phone, else the default."""
    return func.coalesce(func.nullif(c.timezone, ""), func.nullif(c.inferred_timezone, ""), default_timezone)


def birthday_clause(as_of: datetime, default_timezone: str) -> ColumnElement:
    zone = effective_zone(default_timezone)
    return or_(*[
        and_(c.birth_month == month, c.birth_day == day, zone.in_(zones))
        for (month, day), zones in sorted(birthdays_today(as_of).items())
    ])


def last_order_query(kind: LastOrderContaining, as_of: datetime) -> Select:
    """Lines of the category ordered in the wanted window, on the customer's last purchase."""
    lines = order_lines.c

    def in_window(days_ago: int) -> ColumnElement:
        start, end = days_ago_window(as_of, days_ago)
        return and_(lines.ordered_ts > to_epoch(start), lines.ordered_ts <= to_epoch(end))

    special = kind.days_ago_by_pack_size
    by_size = [and_(lines.pack_size == size, in_window(days)) for size, days in sorted(special.items())]
    usual = and_(lines.pack_size.not_in(sorted(special)) if special else true(), in_window(kind.days_ago))
    return (
        select(c.customer_id).distinct()
        .select_from(order_lines.join(customers, c.customer_id == lines.customer_id))
        .where(lines.category == kind.category, lines.kind == PURCHASE, or_(usual, *by_size),
               c.last_order_ts == lines.ordered_ts)
    )


def overdue_clause(kind: RepurchaseOverdue, as_of_ts: int) -> ColumnElement:
    overdue_at = c.last_order_ts + c.avg_interval_seconds * kind.factor
    clauses = [c.order_count >= max(2, kind.min_orders), c.avg_interval_seconds.is_not(None), overdue_at < as_of_ts]
    if kind.within_days > 0:
        clauses.append(overdue_at >= as_of_ts - kind.within_days * DAY_SECONDS)
    return and_(*clauses)


def segment_query(spec: SegmentSpec, as_of: datetime, rules: LifecycleRules, default_timezone: str) -> Select:
    """The whole segment as one SELECT of customer ids."""
    as_of_ts = to_epoch(as_of)
    kind = spec.kind
    query = last_order_query(kind, as_of) if isinstance(kind, LastOrderContaining) else select(c.customer_id)
    clauses: list[ColumnElement] = [c.status == ACTIVE]
    if isinstance(kind, BirthdayToday):
        clauses.append(birthday_clause(as_of, default_timezone))
    elif isinstance(kind, RepurchaseOverdue):
        clauses.append(overdue_clause(kind, as_of_ts))
    clauses.extend(getattr(c, f"{channel}_contactable") == true() for channel in spec.contactable_on)
    if spec.lifecycle_stages:
        clauses.append(lifecycle_case(as_of_ts, rules).in_([stage.value for stage in spec.lifecycle_stages]))
    clauses.extend(condition_clause(condition, as_of_ts) for condition in spec.conditions)
    return query.where(*clauses)


def stream_ids(session: Session, query: Select, batch_size: int) -> Iterator[list[str]]:
    """Run the query with a server-side cursor and yield ids in batches (memory stays flat)."""
    result = session.execute(query.execution_options(yield_per=batch_size))
    for partition in result.partitions(batch_size):
        yield [row[0] for row in partition]
