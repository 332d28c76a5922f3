"""The validation cache: refused input never grows it, and good input fills it only up to its bound in bytes."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.protoconv import to_timestamp
from services.ingest.validation import EventValidator
from services.ingest.validation_cache import ENTRY_BYTES, ValidationCache

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024


def page_view(source: str, identifiers: list[identity_pb2.Identifier]) -> event_pb2.Event:
    return event_pb2.Event(
        event_id="e-1", source=source, event_time=to_timestamp(NOW - timedelta(hours=1)),
        identifiers=identifiers, page_view=event_pb2.PageView(url="https://shop.example/"),
    )


def test_long_refused_values_leave_the_cache_empty_and_the_memory_flat() -> None:
    validator = EventValidator("FR", timedelta(minutes=10), cache_bytes=MIB)
    tracemalloc.start()
    try:
        for n in range(400):
            big = f"{n}" + "x" * 64 * 1024  # no good source, e-mail address or phone number is this long
            result = validator.validate(0, page_view(big, [
                identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=big),
                identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_PHONE, value=big),
                identity_pb2.Identifier(type=999, value=big),
            ]), NOW)
            refused = {path.split(".")[0] for path, _ in result.errors}
            assert refused >= {"source", "identifiers[0]", "identifiers[1]", "identifiers[2]"}
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(validator.cache) == 0 and validator.cache.used_bytes == 0
    assert retained < MIB  # 3 × 25 MiB went through


def test_good_values_fill_the_cache_up_to_its_bound_and_it_starts_afresh() -> None:
    bound = 100 * (ENTRY_BYTES + 2 * 40)
    validator = EventValidator("FR", timedelta(minutes=10), cache_bytes=bound)
    for n in range(1000):
        address = f"customer.{n:06}@example.com"
        result = validator.validate(0, page_view("webshop", [
            identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=address)]), NOW)
        assert result.ok and result.identifiers == [("email", address)]
        assert 0 < validator.cache.used_bytes <= bound
    assert 0 < len(validator.cache) <= 100


def test_a_cached_answer_is_the_rules_answer() -> None:
    validator = EventValidator("FR", timedelta(minutes=10))
    phone = identity_pb2.IDENTIFIER_TYPE_PHONE
    first, again = (validator.validate(0, page_view("webshop", [identity_pb2.Identifier(
        type=phone, value="06 12 34 56 78")]), NOW) for _ in range(2))
    assert first.identifiers == again.identifiers == [("phone", "+33612345678")]
    assert len(validator.cache) == 2  # the source and the phone number


def test_short_refused_values_are_not_kept() -> None:
    validator = EventValidator("FR", timedelta(minutes=10))
    for n in range(100):
        result = validator.validate(0, page_view(f"Bad Source {n}", [identity_pb2.Identifier(
            type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=f"not an address {n}")]), NOW)
        assert not result.ok
    assert len(validator.cache) == 0


def test_a_value_longer_than_any_good_one_is_not_kept() -> None:
    cache = ValidationCache(["email"], max_bytes=MIB)
    cache.keep("email", "a" * 300, ("email", "a"))
    cache.keep("unknown space", "b", ("email", "b"))
    assert len(cache) == 0 and cache.used_bytes == 0
