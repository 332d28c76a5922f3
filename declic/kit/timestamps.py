"""Conversions between protobuf Timestamps and aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


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
