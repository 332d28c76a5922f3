"""How a transaction's events count in ingest's stats."""

from __future__ import annotations

from datetime import UTC, datetime

from declic.common.v1 import event_pb2
from services.ingest.validation import ValidatedEvent
from services.ingest.writer.calls import Outcome, Submission
from services.ingest.writer.stats import INVALID_SOURCE, count_outcomes

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _call(*sources: str) -> Submission:
    return Submission([ValidatedEvent(n, event_pb2.Event(), (source, f"e{n}")) for n, source in enumerate(sources)],
                      NOW)


def test_a_rejected_event_counts_once_per_distinct_reason_the_others_once_under_no_reason() -> None:
    refused = Outcome("rejected", errors=[("order.lines[0].quantity", "must be > 0"),
                                          ("order.lines[1].quantity", "must be > 0 (got -1)"),
                                          ("event_time", "is required")])
    counts = count_outcomes([_call("web", "web"), _call("pos", "")],
                            [[Outcome("accepted"), refused],
                             [Outcome("duplicate"), Outcome("rejected", errors=[("source", "is required")])]])
    assert counts == {
        ("web", "accepted", ""): 1,
        ("web", "rejected", "order.lines[].quantity: must be > 0"): 1,
        ("web", "rejected", "event_time: is required"): 1,
        ("pos", "duplicate", ""): 1,
        (INVALID_SOURCE, "rejected", "source: is required"): 1,
    }
    too_long = "s" * 65
    assert count_outcomes([_call(too_long)], [[Outcome("accepted")]]) == {(INVALID_SOURCE, "accepted", ""): 1}


def test_a_source_holding_a_nul_character_counts_as_invalid() -> None:
    """The kit's door refuses it (REJECTED); counted under it, the stats row failed the whole batch (UNAVAILABLE,
    found by `make fuzz`)."""
    refused = Outcome("rejected", errors=[("source", "must not contain the NUL character (U+0000)")])
    assert count_outcomes([_call("web\x00")], [[refused]]) == {
        (INVALID_SOURCE, "rejected", "source: must not contain the NUL character"): 1}
