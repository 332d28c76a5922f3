"""What each answer of profile, the arbiter and dispatch makes of a firing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scenario.domain.delivery import (
    PROFILE_WAIT_ATTEMPTS,
    ArbiterDecision,
    Contact,
    Verdict,
    message_variables,
    profile_missing,
    retry_delay,
    retry_later,
    sent,
    settle_by_verdict,
)
from services.scenario.domain.firings import Firing, FiringState, Settlement

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


def firing(attempts: int = 0, **variables: str) -> Firing:
    return Firing("f1", "welcome", "welcome-offer", "c1", 50, ("email", "sms"), "welcome", NOW,
                  variables=dict(variables), attempts=attempts)


def test_each_verdict_but_allow_settles_the_firing() -> None:
    later = NOW + timedelta(hours=3)
    assert settle_by_verdict(ArbiterDecision(Verdict.DEFER, "quiet hours", defer_until=later), firing(), NOW) == (
        Settlement(FiringState.DEFERRED, "quiet hours", later)
    )
    assert settle_by_verdict(ArbiterDecision(Verdict.SUPPRESS, "cap reached"), firing(), NOW) == (
        Settlement(FiringState.SUPPRESSED, "cap reached")
    )
    assert settle_by_verdict(ArbiterDecision(Verdict.CONTROL_GROUP, "held out"), firing(), NOW) == (
        Settlement(FiringState.CONTROL_GROUP, "held out")
    )
    assert settle_by_verdict(ArbiterDecision(Verdict.ALLOW, "allowed", channel="email"), firing(), NOW) is None


def test_a_deferral_without_a_time_is_due_again_after_a_backoff() -> None:
    settlement = settle_by_verdict(ArbiterDecision(Verdict.DEFER, "later"), firing(attempts=3), NOW)
    assert settlement == Settlement(FiringState.DEFERRED, "later", NOW + retry_delay(3))


def test_a_sent_firing_names_its_message_and_is_never_due_again() -> None:
    assert sent("m1", "sms") == Settlement(FiringState.SENT, "message m1 on sms", None)


def test_a_missing_profile_is_waited_for_then_given_up() -> None:
    waiting = profile_missing(firing(attempts=10), NOW)
    assert (waiting.state, waiting.detail) == (FiringState.PENDING, "waiting for the profile")
    assert waiting.next_attempt_at == NOW + retry_delay(2)  # short waits: the profile is usually a moment late
    assert profile_missing(firing(attempts=PROFILE_WAIT_ATTEMPTS), NOW) == (
        Settlement(FiringState.SUPPRESSED, "customer unknown to profile")
    )


def test_a_failing_peer_leaves_the_firing_pending_with_a_growing_backoff() -> None:
    assert retry_later(firing(attempts=1), "arbiter: UNAVAILABLE", NOW) == (
        Settlement(FiringState.PENDING, "arbiter: UNAVAILABLE", NOW + timedelta(seconds=1))
    )
    delays = [retry_delay(attempts) for attempts in range(12)]
    assert delays == sorted(delays) and delays[0] == timedelta(seconds=0.5) and delays[-1] == timedelta(minutes=1)


def test_the_profile_completes_the_variables_without_overriding_the_firing() -> None:
    contact = Contact(first_name="Ann", timezone="Europe/Paris", addresses={"email": "ann@example.com"})
    assert message_variables(firing(), contact) == {"first_name": "Ann"}
    assert message_variables(firing(first_name="Annie"), contact) == {"first_name": "Annie"}
    assert message_variables(firing(), Contact("", "", {})) == {}
