"""What a call hands the writer — its validated events (`Submission`) — and gets back: an `Outcome` per event.

The service may hand several calls' submissions to one writer together (group commit); each keeps its own
receive time and trace context, and gets its own outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.ingest.validation import ValidatedEvent

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


@dataclass(slots=True)
class Outcome:
    """What happened to one event of the batch."""

    status: str
    customer_id: str = ""
    new_customer: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate_of: int | None = None
    """For a repeat inside the batch: the index of its first copy."""


@dataclass
class Submission:
    """One call's validated events, with what its records carry: receive time and trace context."""

    events: list[ValidatedEvent]
    received_at: datetime
    trace_context: dict[str, str] = field(default_factory=dict)
