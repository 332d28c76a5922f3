"""Many records in one payload: each preceded by its length as a protobuf varint.

A service writing many records per transaction stores them in one outbox row, which the relay appends to the
hand-off stream as one entry (`kit.stream`): one row, one stream entry and one round trip per transaction
instead of per record. Consumers split entries again (`unframe`) and handle the records one by one, in order.
"""

from __future__ import annotations

from collections.abc import Sequence


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL_VARINTS = [_encode_varint(n) for n in range(1 << 14)]  # every length and tag below 16 KiB, precomputed


def varint(value: int) -> bytes:
    """`value` as a protobuf varint (below 16 KiB from a table)."""
    return _SMALL_VARINTS[value] if value < 16384 else _encode_varint(value)


def frame(records: Sequence[bytes]) -> bytes:
    """The records as one payload, each preceded by its length."""
    return b"".join([varint(len(record)) + record for record in records])


def unframe(payload: bytes) -> list[bytes]:
    """The records of a payload written by `frame`; ValueError if it is cut short."""
    records = []
    position, end = 0, len(payload)
    while position < end:
        length = shift = 0
        while True:
            if position >= end:
                raise ValueError("framed payload cut short in a record's length")
            byte = payload[position]
            position += 1
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        if position + length > end:
            raise ValueError("framed payload cut short in a record")
        records.append(payload[position:position + length])
        position += length
    return records
