"""How a transaction's events count in `ingest_stats`: by source, status and reason."""

from __future__ import annotations

from collections import Counter

from declic.kit.errors import stats_reason
from services.ingest.writer.calls import REJECTED, Outcome, Submission

INVALID_SOURCE = "(invalid)"
"""Counted instead of a source that is empty, too long for the column or holds a NUL character, which PostgreSQL
cannot store (the event was refused for it)."""


def count_outcomes(submissions: list[Submission], outcomes: list[list[Outcome]]) -> Counter[tuple[str, str, str]]:
    """Counts by (source, status, reason) of the submissions' events, given each one's outcomes in order; a rejected
    event counts once under each distinct reason, the others under the reason ""."""
    answered = [(event.key[0], outcome) for submission, answers in zip(submissions, outcomes, strict=True)
                for event, outcome in zip(submission.events, answers, strict=True)]
    counts: Counter[tuple[str, str]] = Counter((source, outcome.status) for source, outcome in answered)
    by_reason: Counter[tuple[str, str, str]] = Counter()
    for (source, status), count in counts.items():
        if status != REJECTED:
            by_reason[(_counted_source(source), status, "")] += count
    for source, outcome in answered:
        if outcome.status == REJECTED:
            for reason in sorted({stats_reason(path, why) for path, why in outcome.errors}):
                by_reason[(_counted_source(source), REJECTED, reason)] += 1
    return by_reason


def _counted_source(source: str) -> str:
    return source if source and len(source) <= 64 and "\x00" not in source else INVALID_SOURCE
