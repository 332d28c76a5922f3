"""Quiet hours in the person's timezone: deferred to their end, never dropped; daylight saving; distant zones."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.arbiter.domain.decisions import FiringRequest, SuppressReason, Verdict
from services.arbiter.domain.policy import Policy, QuietHours
from services.arbiter.domain.quiet_hours import quiet_until
from services.arbiter.domain.screening import PersonFacts, Plan, screen

NIGHT = QuietHours(start=time(21), end=time(8), channels=("sms", "push"))
PARIS = ZoneInfo("Europe/Paris")


def test_inside_quiet_hours_the_message_waits_for_their_end_local_time() -> None:
    at = datetime(2026, 1, 10, 22, tzinfo=UTC)  # 23:00 in Paris
    assert quiet_until(at, PARIS, NIGHT, "sms") == datetime(2026, 1, 11, 7, tzinfo=UTC)  # 08:00 CET
    assert quiet_until(at, PARIS, NIGHT, "email") is None  # not a quiet channel
    assert quiet_until(datetime(2026, 1, 10, 12, tzinfo=UTC), PARIS, NIGHT, "sms") is None
    early = datetime(2026, 1, 10, 5, tzinfo=UTC)  # 06:00 in Paris, same morning
    assert quiet_until(early, PARIS, NIGHT, "sms") == datetime(2026, 1, 10, 7, tzinfo=UTC)


def test_the_end_follows_daylight_saving_and_distant_zones() -> None:
    # The night Paris springs forward (29 March 2026): 08:00 is then CEST, UTC+2.
    assert quiet_until(datetime(2026, 3, 28, 22, tzinfo=UTC), PARIS, NIGHT, "sms") == datetime(2026, 3, 29, 6,
                                                                                                 tzinfo=UTC)
    # Autumn back (25 October 2026): 08:00 CET, UTC+1.
    assert quiet_until(datetime(2026, 10, 24, 22, tzinfo=UTC), PARIS, NIGHT, "sms") == datetime(2026, 10, 25, 7,
                                                                                                  tzinfo=UTC)
    # Noon UTC is 01:00 next day in Auckland: quiet; 02:00 in Honolulu: quiet too, each until their own 08:00.
    noon = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert quiet_until(noon, ZoneInfo("Pacific/Auckland"), NIGHT, "sms") == datetime(2026, 7, 1, 20, tzinfo=UTC)
    assert quiet_until(noon, ZoneInfo("Pacific/Honolulu"), NIGHT, "sms") == datetime(2026, 7, 1, 18, tzinfo=UTC)


def test_a_marketing_firing_in_quiet_hours_is_deferred_a_transactional_one_goes() -> None:
    policy = Policy(quiet_hours=NIGHT)
    firing = FiringRequest("f", "s", "c", ("sms",), frozenset({"sms"}), timezone="Asia/Tokyo")
    at = datetime(2026, 1, 10, 14, tzinfo=UTC)  # 23:00 in Tokyo
    decision = screen(firing, PersonFacts(), policy, at)
    assert (decision.verdict, decision.reason) == (Verdict.DEFER, SuppressReason.QUIET_HOURS)
    assert decision.defer_until == datetime(2026, 1, 10, 23, tzinfo=UTC)  # 08:00 JST
    transactional = FiringRequest("t", "s", "c", ("sms",), frozenset({"sms"}), transactional=True,
                                  timezone="Asia/Tokyo")
    assert screen(transactional, PersonFacts(), policy, at).verdict is Verdict.ALLOW
    assert isinstance(screen(firing, PersonFacts(), policy, datetime(2026, 1, 10, 3, tzinfo=UTC)), Plan)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
       st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]))
def test_the_deferred_time_is_never_quiet_and_never_more_than_a_night_ahead(at: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    end = quiet_until(at, zone, NIGHT, "sms")
    if end is not None:
        assert end > at and (end - at).total_seconds() <= 12 * 3600
        assert quiet_until(end, zone, NIGHT, "sms") is None
