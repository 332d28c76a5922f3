"""Delivering a firing: profile (who, where) → arbiter (may we?) → dispatch (send).

The order of the steps and what each answer makes of the firing are decided
here; the calls themselves are the service's clients (`clients.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from declic.kit.backoff import retry_delay
from services.scenario.domain.firings import Firing, FiringState, Settlement

# The profile may not have applied the contact yet when scenario fires: wait for it, within reason.
PROFILE_WAIT_ATTEMPTS = 60


class Verdict(Enum):
    """The arbiter's verdict on a firing."""

    ALLOW = "allow"
    DEFER = "defer"
    SUPPRESS = "suppress"
    CONTROL_GROUP = "control_group"


@dataclass(frozen=True)
class Contact:
    """What profile says about the person: how to greet them and where they can be reached."""

    first_name: str
    timezone: str
    addresses: dict[str, str]
    """Address per contactable channel."""
    preferred_channel: str = ""
    """The channel the person engages with most (profile's engagement), "" when none stands out."""


@dataclass(frozen=True)
class ArbiterDecision:
    verdict: Verdict
    explanation: str
    channel: str = ""
    defer_until: datetime | None = None


class PeerFailed(Exception):
    """A peer service did not answer: `detail` names the peer and the status, `cause` is its message;
    `transient` when it is down or slow (worth retrying quietly)."""

    def __init__(self, detail: str, transient: bool, cause: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.transient = transient
        self.cause = cause


def retry_later(firing: Firing, detail: str, now: datetime) -> Settlement:
    """A peer failed: the firing stays pending and is tried again after a backoff."""
    return Settlement(FiringState.PENDING, detail, now + retry_delay(firing.attempts))


def profile_missing(firing: Firing, now: datetime) -> Settlement:
    """Profile does not know the customer: wait for it a while (it may lag behind ingest), then give up."""
    if firing.attempts < PROFILE_WAIT_ATTEMPTS:
        return Settlement(FiringState.PENDING, "waiting for the profile", now + retry_delay(min(firing.attempts, 2)))
    return Settlement(FiringState.SUPPRESSED, "customer unknown to profile")


def message_variables(firing: Firing, contact: Contact) -> dict[str, str]:
    """The firing's variables, completed with what profile knows (the firing's own values win)."""
    variables = dict(firing.variables)
    if contact.first_name:
        variables.setdefault("first_name", contact.first_name)
    return variables


def arbitration_terms(firing: Firing) -> tuple[str, bool, str]:
    """(category, campaign, originating event) of the firing for the arbiter: the scenario file's category
    (marketing, service, transactional: per-category caps), whether it comes from a mass campaign (the policy ranks
    campaigns against triggers), and the event it answers for the arbiter's one-message-per-event rule — the
    journey's first message only: the next ones of the same journey are a series (a reminder three days later),
    not a second scenario answering the same event in parallel, so they name none."""
    first = firing.variables.get("journey_message", "1") == "1"
    return (firing.variables.get("category", ""), firing.variables.get("kind", "") == "campaign",
            firing.cause_event_id if first else "")


def settle_by_verdict(decision: ArbiterDecision, firing: Firing, now: datetime) -> Settlement | None:
    """What the arbiter's verdict makes of the firing; None when allowed (it is sent next).

    A deferred firing is due again when the arbiter said (after a backoff if it gave no time).
    """
    if decision.verdict is Verdict.DEFER:
        due = decision.defer_until or now + retry_delay(firing.attempts)
        return Settlement(FiringState.DEFERRED, decision.explanation, due)
    if decision.verdict is Verdict.SUPPRESS:
        return Settlement(FiringState.SUPPRESSED, decision.explanation)
    if decision.verdict is Verdict.CONTROL_GROUP:
        return Settlement(FiringState.CONTROL_GROUP, decision.explanation)
    return None


def sent(message_id: str, channel: str) -> Settlement:
    """Dispatch took the message: the firing is done."""
    return Settlement(FiringState.SENT, f"message {message_id} on {channel}")
