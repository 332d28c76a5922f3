"""Records of the durable hand-off (declic.ingest.v1.HandoffRecord), each with a stable id.

Consumers are idempotent on `record_id`, so the ids are derived from what the
record is about, never random: the same accepted event always has the same id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from services.ingest.domain.identity import Identifier


def event_record_id(source: str, event_id: str) -> str:
    return f"evt:{source}:{event_id}"


def merge_record_id(survivor_id: str, merged_ids: Sequence[str]) -> str:
    # A customer is merged away only once, so its id makes the record unique.
    return f"merge:{survivor_id}:{'+'.join(sorted(merged_ids))}"


def split_record_id(from_customer_id: str, new_customer_id: str) -> str:
    return f"split:{from_customer_id}:{new_customer_id}"


def accepted_event(
    event: event_pb2.Event, customer_id: str, new_customer: bool, warnings: Iterable[str], received_at: datetime
) -> bytes:
    """The serialized record of an accepted event."""
    timestamp = to_timestamp(received_at)
    return handoff_pb2.HandoffRecord(
        record_id=event_record_id(event.source, event.event_id),
        recorded_at=timestamp,
        accepted_event=handoff_pb2.AcceptedEvent(
            event=event, customer_id=customer_id, received_at=timestamp, new_customer=new_customer,
            warnings=list(warnings),
        ),
    ).SerializeToString()


def customers_merged(survivor_id: str, merged_ids: Sequence[str], cause_event_id: str, now: datetime) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=merge_record_id(survivor_id, merged_ids),
        recorded_at=to_timestamp(now),
        customers_merged=handoff_pb2.CustomersMerged(
            survivor_id=survivor_id, merged_ids=sorted(merged_ids), cause_event_id=cause_event_id
        ),
    ).SerializeToString()


def customer_split(from_customer_id: str, new_customer_id: str, identifiers: Sequence[Identifier],
                   now: datetime) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=split_record_id(from_customer_id, new_customer_id),
        recorded_at=to_timestamp(now),
        customer_split=handoff_pb2.CustomerSplit(
            from_customer_id=from_customer_id,
            new_customer_id=new_customer_id,
            identifiers=[identity_pb2.Identifier(type=identifier_type_enum(kind), value=value)
                         for kind, value in identifiers],
        ),
    ).SerializeToString()
