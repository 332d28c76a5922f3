"""What every request must satisfy before a handler sees it: the documented defaults, and the fields that differ.

The defaults hold for every field of every request message of every service, nested messages included, so an
RPC added tomorrow is bounded the day it is added; `FIELD_RULES` lists only the fields whose limit differs.
docs/requests.md tells clients the same numbers.

Enums: the door refuses numbers the enum does not define. Whether its zero value (…_UNSPECIFIED) is acceptable
is the service's question, answered once, where the field is read: it decides what a missing value means (an
order of no kind is a purchase; a consent for no channel is refused, "is required").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MAX_STRING_CHARS = 1_024
"""Characters (code points) in any string field; strings must be valid UTF-8 (the decoder refuses others)."""
NUL = "\x00"
"""The one character no string may hold: PostgreSQL's text (and JSON) cannot store it, so it would fail a handler."""
NUL_REASON = "must not contain the NUL character (U+0000)"
MAX_MAP_KEY_CHARS = 256
"""Characters in a map key."""
MAX_BYTES = 65_536
"""Bytes in any bytes field."""
MAX_ITEMS = 100
"""Items in any repeated field, entries in any map."""
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
"""Every google.protobuf.Timestamp is at or after this instant ..."""
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)
"""... and before this one; its nanos are in 0..999,999,999."""
MAX_DURATION_SECONDS = 100 * 365 * 86_400
"""Every google.protobuf.Duration is within ±100 years; nanos within ±999,999,999, of the seconds' sign."""
MAX_VIOLATIONS = 10
"""Field violations reported for one request (all are counted in the message)."""


@dataclass(frozen=True)
class FieldRule:
    """How one field departs from the defaults."""

    max_chars: int | None = None
    """Strings: characters allowed instead of MAX_STRING_CHARS."""
    max_items: int | None = None
    """Repeated fields and maps: items allowed instead of MAX_ITEMS."""
    answered_per_item: bool = False
    """Messages the service answers one by one (ingest's events and products: a bad one is REJECTED, the others
    stored). The door counts them but leaves their content to the service, which checks each with
    `request_validation.violations(item)`."""


URL = FieldRule(max_chars=4_096)

FIELD_RULES: dict[str, FieldRule] = {
    # Ingest answers each event or product on its own; its own setting (max_batch_events, default 1,000)
    # bounds a batch below this ceiling.
    "declic.ingest.v1.IngestEventRequest.event": FieldRule(answered_per_item=True),
    "declic.ingest.v1.IngestBatchRequest.events": FieldRule(max_items=10_000, answered_per_item=True),
    "declic.ingest.v1.UpsertProductsRequest.products": FieldRule(max_items=10_000, answered_per_item=True),
    "declic.common.v1.Order.lines": FieldRule(max_items=1_000),
    "declic.common.v1.PageView.url": URL,
    "declic.common.v1.PageView.referrer": URL,
    "declic.common.v1.MessageEngagement.url": URL,
    # A firing's ids and a message's address are stored by arbiter and dispatch in columns of this width (a longer
    # one failed the INSERT with INTERNAL: found by `make fuzz`).
    "declic.common.v1.TriggerFiring.firing_id": FieldRule(max_chars=100),
    "declic.common.v1.TriggerFiring.scenario_id": FieldRule(max_chars=100),
    "declic.common.v1.TriggerFiring.customer_id": FieldRule(max_chars=64),
    "declic.dispatch.v1.SendMessageRequest.address": FieldRule(max_chars=320),
}
