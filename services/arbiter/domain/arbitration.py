"""What the counters' answer makes of a screened firing: caps, minimum gap, one per event, priority.

The service alternates: `next_step` names the channel to reserve on (the counters answer with a
`Reservation`), until it returns the decision. Downgrading tries the next channel; a displaced
firing is tried once more afresh unless its fate is to be dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.arbiter.domain.decisions import (
    Decision,
    Outcome,
    RuleCheck,
    SlotState,
    SuppressReason,
    Verdict,
    decided,
)
from services.arbiter.domain.policy import Policy
from services.arbiter.domain.pressure import Limit, describe_count, frees_at
from services.arbiter.domain.priority import defer_target
from services.arbiter.domain.screening import Plan


@dataclass(frozen=True)
class Reservation:
    """The counters' answer for one firing on one channel.

    status: "ok" (a new slot, `state` HELD or RESERVED), "holding" (held already, not yet due),
    "promoted" (held, now due: reserved), "reserved" (reserved or confirmed already), "displaced"
    (its held slot was taken by `winner`), "blocked" (limit `blocked_at` is full; it frees when
    the entry at `freeing_entry` leaves).
    """

    status: str
    state: SlotState = SlotState.NONE
    channel: str = ""
    slot_at: datetime | None = None
    hold_until: datetime | None = None
    counts: tuple[int, ...] = ()
    blocked_at: int = -1
    freeing_entry: datetime | None = None
    victims: tuple[str, ...] = ()
    winner: str = ""


@dataclass(frozen=True)
class Attempt:
    channel: str
    limits: tuple[Limit, ...]
    reservation: Reservation


def _limit_checks(attempt: Attempt) -> list[RuleCheck]:
    checks = []
    for index, limit in enumerate(attempt.limits[: len(attempt.reservation.counts)]):
        blocked = index == attempt.reservation.blocked_at
        checks.append(RuleCheck(limit.rule + (f"@{attempt.channel}" if limit.kind == "channel" else ""),
                                Outcome.BLOCKED if blocked else Outcome.PASSED,
                                describe_count(limit, attempt.reservation.counts[index])))
    return checks


def next_step(plan: Plan, attempts: list[Attempt], policy: Policy, now: datetime) -> str | Decision:
    """The channel to reserve on next, or the decision."""
    if not attempts:
        return plan.channels[0]
    last = attempts[-1]
    answer = last.reservation
    checks = list(plan.checks)
    for attempt in attempts:
        checks += _limit_checks(attempt)
    displaced = next((a.reservation.winner for a in attempts if a.reservation.status == "displaced"), "")

    def decision(verdict: Verdict, reason: SuppressReason, explanation: str, *, channel: str = "",
                 defer_until: datetime | None = None, slot: SlotState = SlotState.NONE) -> Decision:
        return decided(plan.base, verdict, reason, explanation, tuple(checks), channel=channel, defer_until=defer_until,
                       slot=slot, slot_at=answer.slot_at if slot is not SlotState.NONE else None,
                       displaced_by=displaced)

    channel = answer.channel or last.channel
    if answer.status in ("ok", "holding") and answer.state is SlotState.HELD:
        checks.append(RuleCheck("priority_hold", Outcome.DEFERRED, f"held until {answer.hold_until:%H:%M:%S} UTC"))
        return decision(Verdict.DEFER, SuppressReason.PRIORITY_HOLD,
                        f"held for the priority window on {channel}: a higher priority may still take the slot",
                        channel=channel, defer_until=answer.hold_until, slot=SlotState.HELD)
    if answer.status in ("ok", "promoted", "reserved"):
        note = f" (after losing {plan.channels[0]})" if channel != plan.channels[0] else ""
        return decision(Verdict.ALLOW, SuppressReason.NONE, f"allowed on {channel}{note}", channel=channel,
                        slot=answer.state if answer.state is not SlotState.NONE else SlotState.RESERVED)
    if answer.status == "displaced":
        checks.append(RuleCheck("priority", Outcome.BLOCKED, f"slot taken by {answer.winner}"))
        if plan.loser == "drop" or len([a for a in attempts if a.reservation.status == "displaced"]) > 1:
            return decision(Verdict.SUPPRESS, SuppressReason.HIGHER_PRIORITY,
                            f"a higher-priority message ({answer.winner}) took the slot", slot=SlotState.DISPLACED)
        return last.channel  # tried again afresh: it may fit beside the winner, or meet its fate below
    limit = last.limits[answer.blocked_at]
    if limit.kind == "event":
        return decision(Verdict.SUPPRESS, SuppressReason.DUPLICATE,
                        "another message already answers the same originating event")
    tried = {a.channel for a in attempts}
    untried = [c for c in plan.channels if c not in tried]
    if limit.is_cap and plan.loser == "downgrade" and untried:
        return untried[0]
    reason = SuppressReason.MIN_GAP if limit.gap is not None else SuppressReason.CAP_REACHED
    if displaced:
        reason = SuppressReason.HIGHER_PRIORITY
    wait = defer_target(policy, now, frees_at(limit, now, plan.zone, answer.freeing_entry))
    if wait is not None and (limit.gap is not None or plan.loser == "defer"):
        return decision(Verdict.DEFER, reason, f"{limit.label}: deferred until a slot frees", channel=channel,
                        defer_until=wait)
    what = "cap of " + limit.label if limit.is_cap else limit.label
    return decision(Verdict.SUPPRESS, reason, f"{what} reached" if limit.is_cap else f"{what}: not met")
