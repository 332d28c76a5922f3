from datetime import UTC, datetime, timedelta

from declic.kit.clock import ManualClock
from declic.kit.identifiers import identifier_hash
from declic.kit.protoconv import channel_enum, channel_name, to_datetime, to_timestamp


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(days=14)) == datetime(2026, 1, 15, tzinfo=UTC)


def test_conversions_round_trip() -> None:
    instant = datetime(2026, 2, 3, 4, 5, 6, 700000, tzinfo=UTC)
    assert to_datetime(to_timestamp(instant)) == instant
    assert channel_name(channel_enum("call_center")) == "call_center"


def test_identifier_hash_is_stable_and_typed() -> None:
    assert identifier_hash("email", "a@b.c") == identifier_hash("email", "a@b.c")
    assert identifier_hash("email", "x") != identifier_hash("crm_id", "x")
