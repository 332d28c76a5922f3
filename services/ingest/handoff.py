"""Records of the durable hand-off (declic.ingest.v1.HandoffRecord), each with a stable id.

Consumers are idempotent on `record_id`, so the ids are derived from what the
record is about, never random: the same accepted event always has the same id.

Accepted-event records are the bulk of ingest's output (one per event), so they
are encoded directly from the already serialized event rather than rebuilt as
messages: the bytes are the same as `HandoffRecord.SerializeToString()` gives
(a unit test holds them equal), at a fifth of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from declic.common.v1 import identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.framing import varint
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from services.ingest.domain.identity import Identifier


def event_record_id(source: str, event_id: str) -> str:
    return f"evt:{source}:{event_id}"


def merge_record_id(survivor_id: str, merged_ids: Sequence[str]) -> str:
    # A customer is merged away only once, so its id makes the record unique.
    return f"merge:{survivor_id}:{'+'.join(sorted(merged_ids))}"


def split_record_id(from_customer_id: str, new_customer_id: str) -> str:
    return f"split:{from_customer_id}:{new_customer_id}"


def _field(number: int, data: bytes, present: bool = False) -> bytes:
    """A length-delimited field. Proto3 leaves out an empty singular string, not a set message or a list item."""
    return varint(number << 3 | 2) + varint(len(data)) + data if data or present else b""


class AcceptedEventEncoder:
    """Encodes the accepted-event records of one batch (all received at the same instant, in one call whose
    trace context they carry)."""

    def __init__(self, received_at: datetime, trace_context: Mapping[str, str] | None = None) -> None:
        self._timestamp = to_timestamp(received_at).SerializeToString()
        self._recorded_at = _field(2, self._timestamp, present=True) + b"".join(
            _field(3, _field(1, key.encode(), present=True) + _field(2, value.encode(), present=True), present=True)
            for key, value in sorted((trace_context or {}).items())
        )
        self._received_at = _field(3, self._timestamp, present=True)

    def encode(self, source: str, event_id: str, event: bytes, customer_id: str, new_customer: bool,
               warnings: Sequence[str]) -> bytes:
        # Field by field, as protobuf writes them (tags: 0x0a = field 1 bytes, 0x12 = 2, 0x20 = 4 varint,
        # 0x2a = 5, 0x52 = 10); one record per accepted event, so spelled out rather than built with _field.
        accepted = b"\x0a" + varint(len(event)) + event
        if customer_id:
            customer = customer_id.encode()
            accepted += b"\x12" + varint(len(customer)) + customer
        accepted += self._received_at
        if new_customer:
            accepted += b"\x20\x01"  # field 4, varint, true
        for warning in warnings:
            remark = warning.encode()
            accepted += b"\x2a" + varint(len(remark)) + remark
        record_id = f"evt:{source}:{event_id}".encode()
        return b"\x0a" + varint(len(record_id)) + record_id + self._recorded_at + b"\x52" + varint(len(accepted)) \
            + accepted


def customers_merged(survivor_id: str, merged_ids: Sequence[str], cause_event_id: str, now: datetime,
                     trace_context: Mapping[str, str] | None = None) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=merge_record_id(survivor_id, merged_ids),
        recorded_at=to_timestamp(now),
        trace_context=trace_context,
        customers_merged=handoff_pb2.CustomersMerged(
            survivor_id=survivor_id, merged_ids=sorted(merged_ids), cause_event_id=cause_event_id
        ),
    ).SerializeToString()


def customer_split(from_customer_id: str, new_customer_id: str, identifiers: Sequence[Identifier],
                   now: datetime, trace_context: Mapping[str, str] | None = None) -> bytes:
    return handoff_pb2.HandoffRecord(
        record_id=split_record_id(from_customer_id, new_customer_id),
        recorded_at=to_timestamp(now),
        trace_context=trace_context,
        customer_split=handoff_pb2.CustomerSplit(
            from_customer_id=from_customer_id,
            new_customer_id=new_customer_id,
            identifiers=[identity_pb2.Identifier(type=identifier_type_enum(kind), value=value)
                         for kind, value in identifiers],
        ),
    ).SerializeToString()
