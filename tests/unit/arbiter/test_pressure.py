"""Which limits apply to a firing, and windows in the person's timezone (daylight saving, distant zones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.arbiter.domain.policy import Cap, Policy, PriorityRules, Window
from services.arbiter.domain.pressure import cap_limits, frees_at, limits_for
from services.arbiter.domain.windows import window_start

PARIS, AUCKLAND, HONOLULU = ZoneInfo("Europe/Paris"), ZoneInfo("Pacific/Auckland"), ZoneInfo("Pacific/Honolulu")
NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
POLICY = Policy(
    caps=(Cap(name="week", limit=3, window=Window(rolling=timedelta(days=7))),
          Cap(name="sms-day", scope="channel", value="sms", limit=1, window=Window(calendar="day")),
          Cap(name="promo", scope="category", value="promotional", limit=2, window=Window(calendar="week"))),
    min_gap=timedelta(hours=4), priority=PriorityRules(event_window=timedelta(days=2)),
)


def test_a_firing_meets_the_global_caps_its_channel_and_category_caps_the_gap_and_its_event() -> None:
    rules = [limit.rule for limit in limits_for(POLICY, "sms", "promotional", "e1", NOW, PARIS)]
    assert rules == ["cap:week", "cap:sms-day", "cap:promo", "min_gap", "one_per_event"]
    rules = [limit.rule for limit in limits_for(POLICY, "email", "service", "", NOW, PARIS)]
    assert rules == ["cap:week", "min_gap"]
    assert [limit.rule for limit in cap_limits(POLICY, NOW, PARIS)] == ["cap:week", "cap:sms-day", "cap:promo"]


def test_a_calendar_day_is_the_persons_own_day() -> None:
    day = Window(calendar="day")
    # 10:00 UTC is 23:00 in Auckland (UTC+13 in March) and midnight the same day in Honolulu (UTC-10).
    assert window_start(day, NOW, AUCKLAND) == datetime(2026, 3, 1, 11, tzinfo=UTC) - timedelta(days=1)
    assert window_start(day, NOW, HONOLULU) == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert frees_at(limits_for(POLICY, "sms", "", "", NOW, AUCKLAND)[1], NOW, AUCKLAND, None) == datetime(
        2026, 3, 1, 11, tzinfo=UTC)


def test_calendar_windows_across_daylight_saving() -> None:
    # Paris springs forward on 29 March 2026 (02:00 -> 03:00): that local day is 23 hours long.
    day, week = Window(calendar="day"), Window(calendar="week")
    during = datetime(2026, 3, 29, 20, tzinfo=UTC)  # 22:00 CEST
    assert window_start(day, during, PARIS) == datetime(2026, 3, 28, 23, tzinfo=UTC)  # midnight CET
    limit = limits_for(POLICY, "sms", "", "", during, PARIS)[1]
    assert frees_at(limit, during, PARIS, None) == datetime(2026, 3, 29, 22, tzinfo=UTC)  # midnight CEST
    # The week of Monday 23 March started at midnight CET, before the change.
    assert window_start(week, during, PARIS) == datetime(2026, 3, 22, 23, tzinfo=UTC)


def test_rolling_windows_and_the_gap_free_when_the_oldest_counted_leaves() -> None:
    week, _, _, gap, event = limits_for(POLICY, "sms", "promotional", "e1", NOW, PARIS)
    sent = NOW - timedelta(days=2)
    assert frees_at(week, NOW, PARIS, sent) == sent + timedelta(days=7)
    assert frees_at(gap, NOW, PARIS, NOW - timedelta(hours=1)) == NOW + timedelta(hours=3)
    assert frees_at(event, NOW, PARIS, sent) is None  # one message per event: never again
    assert week.since == NOW - timedelta(days=7) and gap.since == NOW - timedelta(hours=4)
