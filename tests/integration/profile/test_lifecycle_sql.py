"""The lifecycle rules run twice — in Python for profiles, as a SQL CASE for segments: they must agree."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import select

from declic.kit.database import make_engine, migrate
from services.profile.domain.lifecycle import lifecycle_stage
from services.profile.domain.orders import DAY_SECONDS, OrderStats, to_epoch
from services.profile.domain.rules import LifecycleRules
from services.profile.storage.segments import lifecycle_case
from services.profile.storage.tables import customers

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
_ids = itertools.count()


@pytest.fixture
def engine(settings):
    """Profile's tables in this test's own schema (dropped with the test session's others)."""
    engine = make_engine(settings, "profile")
    migrate(engine, "profile", settings)
    yield engine
    engine.dispose()


histories = st.tuples(
    st.integers(0, 8),                        # purchases
    st.integers(0, 500 * DAY_SECONDS),        # seconds since the last one
    st.integers(0, 200 * DAY_SECONDS),        # seconds between first and last
    st.integers(0, 200_000),                  # value in cents
)
rules_strategy = st.builds(LifecycleRules, lapsed_after_days=st.integers(200, 400),
                           at_risk_after_days=st.integers(60, 199), at_risk_interval_factor=st.floats(1.0, 3.0),
                           at_risk_min_days=st.integers(0, 40), loyal_min_orders=st.integers(2, 6),
                           loyal_min_value_units=st.floats(0, 1500), new_customer_days=st.integers(0, 120))


@hypothesis.settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories, rules_strategy)
def test_sql_case_agrees_with_the_python_rules(engine, history, rules: LifecycleRules) -> None:
    count, since_last, span, cents = history
    as_of_ts = to_epoch(AS_OF)
    last = as_of_ts - since_last if count else None
    first = (last - span if count > 1 else last) if count else None
    stats = OrderStats(count, first, last, cents if count else 0, 0, "EUR")
    customer_id = f"lc-{next(_ids)}"
    with engine.begin() as conn:
        conn.execute(customers.insert().values(
            customer_id=customer_id, status="active", updated_at=AS_OF, order_count=stats.order_count,
            first_order_ts=first, last_order_ts=last, avg_interval_seconds=stats.average_interval_seconds,
            monetary_cents=stats.monetary_cents))
        in_sql = conn.execute(select(lifecycle_case(as_of_ts, rules)).where(
            customers.c.customer_id == customer_id)).scalar_one()
    in_python, why = lifecycle_stage(stats, AS_OF, rules)
    assert in_sql == in_python.value, why
