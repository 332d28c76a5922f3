"""May we contact this person now (call-center tools)? The same screening and limits as a firing, without a slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.arbiter.domain.decisions import Decision, Outcome, RuleCheck, Verdict
from services.arbiter.domain.pressure import Limit, describe_count
from services.arbiter.domain.screening import Plan


@dataclass(frozen=True)
class Availability:
    allowed: bool
    channel: str
    explanation: str
    rules: tuple[RuleCheck, ...]
    next_allowed_at: datetime | None = None


def availability(screened: Decision | Plan, counted: Sequence[tuple[str, Sequence[Limit], Sequence[int]]]
                 ) -> Availability:
    """From the screening and, per candidate channel, each limit's current count: the first channel whose limits
    all have room, or why none has."""
    if isinstance(screened, Decision):
        allowed = screened.verdict is Verdict.ALLOW
        return Availability(allowed, screened.channel if allowed else "", screened.explanation, screened.rules,
                            screened.defer_until)
    rules = list(screened.checks)
    for channel, limits, counts in counted:
        full = [limit for limit, count in zip(limits, counts, strict=True) if count >= limit.limit]
        for limit, count in zip(limits, counts, strict=True):
            rules.append(RuleCheck(f"{limit.rule}@{channel}", Outcome.BLOCKED if limit in full else Outcome.PASSED,
                                   describe_count(limit, count)))
        if not full:
            return Availability(True, channel, f"may be contacted now on {channel}", tuple(rules))
    return Availability(False, "", "every open channel is at a limit: " + "; ".join(
        r.detail for r in rules if r.outcome is Outcome.BLOCKED), tuple(rules))
