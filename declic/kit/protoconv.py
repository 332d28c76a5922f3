"""Conversions between protobuf types and the plain values domains use."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from declic.common.v1 import identity_pb2


def to_datetime(ts: Timestamp) -> datetime:
    """An aware UTC datetime from a Timestamp."""
    return ts.ToDatetime(tzinfo=UTC)


def to_timestamp(value: datetime) -> Timestamp:
    """A Timestamp from a datetime; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def channel_name(channel: int) -> str:
    """CHANNEL_EMAIL → "email" (the name domains and tables use)."""
    return identity_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()


def channel_enum(name: str) -> int:
    """"email" → CHANNEL_EMAIL."""
    return identity_pb2.Channel.Value("CHANNEL_" + name.upper())


def identifier_type_name(identifier_type: int) -> str:
    """IDENTIFIER_TYPE_LOYALTY_CARD → "loyalty_card"."""
    return identity_pb2.IdentifierType.Name(identifier_type).removeprefix("IDENTIFIER_TYPE_").lower()


def identifier_type_enum(name: str) -> int:
    """"loyalty_card" → IDENTIFIER_TYPE_LOYALTY_CARD."""
    return identity_pb2.IdentifierType.Value("IDENTIFIER_TYPE_" + name.upper())
