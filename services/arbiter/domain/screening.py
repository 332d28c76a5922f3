"""The rules judged before the counters: exclusions, cool-offs, consent and channel, control groups, quiet hours.

Where the person's facts come from (a choice, fail closed):
- consent, contactability and timezone: **the caller passes what it knows** (scenario reads the
  profile right before asking: one source of truth, no second copy to drift). No contactable
  channel means no message; an unknown timezone is the policy's default one.
- exclusions, cool-offs and withdrawn consents: **the arbiter's own tables** — exclusions are set
  through its API; cool-offs (a complaint, an unsubscribe on a channel, a return) and consents
  (given or withdrawn per channel, the newest wins) come from the hand-off stream it consumes,
  which also carries merges and erasures. A channel withdrawn there stays closed even when the
  caller's (older) view says otherwise: the stricter of the two wins. Reading them fails closed
  (UNAVAILABLE) when the database is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.arbiter.domain.control_groups import held_out
from services.arbiter.domain.decisions import (
    Decision,
    FiringRequest,
    Outcome,
    RuleCheck,
    SuppressReason,
    Verdict,
    decided,
)
from services.arbiter.domain.policy import Policy
from services.arbiter.domain.priority import effective_priority, loser_fate
from services.arbiter.domain.quiet_hours import quiet_until


@dataclass(frozen=True)
class ExclusionFact:
    list: str
    reason: str
    source: str
    expires_at: datetime | None


@dataclass(frozen=True)
class CoolOffFact:
    kind: str  # "complaint", "unsubscribe", "return"
    channel: str  # "" for every channel
    until: datetime


@dataclass(frozen=True)
class PersonFacts:
    exclusions: tuple[ExclusionFact, ...] = ()
    cool_offs: tuple[CoolOffFact, ...] = ()
    denied_channels: frozenset[str] = frozenset()
    """Channels whose consent the hand-off stream says was withdrawn (newest first): closed to marketing even if the
    caller, with an older view, says the person can be reached there."""


@dataclass(frozen=True)
class Plan:
    """A marketing firing that passed screening: the channels to try in order, and what the counters need."""

    request: FiringRequest
    channels: tuple[str, ...]
    category: str
    priority: int
    loser: str
    zone: ZoneInfo
    checks: tuple[RuleCheck, ...]
    base: Decision


_ON_NO_LIST = RuleCheck("exclusions", Outcome.PASSED, "on no list")
_TRANSACTIONAL = RuleCheck("caps", Outcome.NOT_APPLICABLE, "transactional: exempt, recorded")
_NOT_HELD_OUT = RuleCheck("control_group", Outcome.PASSED, "not held out")
"""The checks every such decision shares (made once: they are immutable)."""


def candidate_channels(request: FiringRequest, closed: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The channels the step allows that the person can be reached on, their preferred one first."""
    wanted = list(request.wanted_channels)
    if request.preferred_channel in wanted:
        wanted.remove(request.preferred_channel)
        wanted.insert(0, request.preferred_channel)
    return tuple(c for c in wanted if c in request.contactable_channels and c not in closed)


def screen(request: FiringRequest, facts: PersonFacts, policy: Policy, now: datetime) -> Decision | Plan:
    """A final (or deferring) decision, or the plan the counters judge next."""
    zone = ZoneInfo(request.timezone or policy.timezone)
    category = request.category or policy.for_scenario(request.scenario_id).category or policy.default_category
    priority = effective_priority(policy, request.scenario_id, request.priority, request.campaign)
    base = Decision(request.firing_id, request.customer_id, request.scenario_id, Verdict.SUPPRESS, now,
                    policy_version=policy.version, category=category, priority=priority,
                    cause_event_id=request.cause_event_id)
    checks: list[RuleCheck] = []

    def final(verdict: Verdict, reason: SuppressReason, explanation: str, channel: str = "",
              defer_until: datetime | None = None) -> Decision:
        return decided(base, verdict, reason, explanation, tuple(checks), channel=channel, defer_until=defer_until)

    if not request.transactional:
        active = [e for e in facts.exclusions if e.expires_at is None or e.expires_at > now]
        for exclusion in active:
            checks.append(RuleCheck(f"exclusion:{exclusion.list}", Outcome.BLOCKED,
                                    f"{exclusion.reason} (from {exclusion.source})"))
            return final(Verdict.SUPPRESS, SuppressReason.EXCLUDED,
                         f"set aside on the list {exclusion.list}: {exclusion.reason}")
        checks.append(_ON_NO_LIST)
        cooling = [c for c in facts.cool_offs if c.until > now]
        for cool_off in (c for c in cooling if not c.channel):
            checks.append(RuleCheck(f"cool_off:{cool_off.kind}", Outcome.BLOCKED, f"until {cool_off.until:%Y-%m-%d}"))
            return final(Verdict.SUPPRESS, SuppressReason.COOL_OFF,
                         f"cool-off after a {cool_off.kind} until {cool_off.until:%Y-%m-%d %H:%M} UTC")
        closed = frozenset(c.channel for c in cooling if c.channel) | facts.denied_channels
    else:
        checks.append(_TRANSACTIONAL)
        closed = frozenset()
    channels = candidate_channels(request, closed)
    if not channels:
        if not request.contactable_channels:
            checks.append(RuleCheck("consent", Outcome.BLOCKED, "no channel open"))
            return final(Verdict.SUPPRESS, SuppressReason.NO_CONSENT,
                         "the person cannot be reached on any channel (consent or address missing)")
        open_channels = set(candidate_channels(request))
        if open_channels and open_channels <= facts.denied_channels:
            checks.append(RuleCheck("consent", Outcome.BLOCKED, "withdrawn on " + ", ".join(sorted(open_channels))))
            return final(Verdict.SUPPRESS, SuppressReason.NO_CONSENT,
                         f"consent withdrawn on {', '.join(sorted(open_channels))}")
        if open_channels:
            checks.append(RuleCheck("cool_off:unsubscribe", Outcome.BLOCKED, ", ".join(sorted(closed))))
            return final(Verdict.SUPPRESS, SuppressReason.COOL_OFF,
                         f"cool-off after an unsubscribe on {', '.join(sorted(closed))}")
        wanted = ", ".join(request.wanted_channels) or "none"
        checks.append(RuleCheck("channel", Outcome.BLOCKED, f"wanted {wanted}"))
        return final(Verdict.SUPPRESS, SuppressReason.NO_CHANNEL,
                     f"none of the scenario's channels ({wanted}) is open for this person")
    checks.append(RuleCheck("channel", Outcome.PASSED, " > ".join(channels)))
    if request.transactional:
        return final(Verdict.ALLOW, SuppressReason.NONE, f"transactional: allowed on {channels[0]}", channels[0])
    why_held_out = held_out(request.customer_id, request.scenario_id, policy)
    if why_held_out:
        checks.append(RuleCheck("control_group", Outcome.BLOCKED, why_held_out))
        return final(Verdict.CONTROL_GROUP, SuppressReason.CONTROL_GROUP, why_held_out, channels[0])
    checks.append(_NOT_HELD_OUT)
    quiet_end = quiet_until(now, zone, policy.quiet_hours, channels[0])
    if quiet_end is not None:
        checks.append(RuleCheck("quiet_hours", Outcome.DEFERRED, f"until {quiet_end.astimezone(zone):%H:%M} local"))
        return final(Verdict.DEFER, SuppressReason.QUIET_HOURS,
                     f"quiet hours in {zone.key}: deferred to {quiet_end.astimezone(zone):%Y-%m-%d %H:%M} local",
                     channels[0], defer_until=quiet_end)
    checks.append(RuleCheck("quiet_hours", Outcome.PASSED, f"{now.astimezone(zone):%H:%M} local"))
    return Plan(request, channels, category, priority, loser_fate(policy, request.scenario_id, request.loser), zone,
                tuple(checks), base)
