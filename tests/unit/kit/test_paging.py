"""Page tokens and pages: a walk sees every item once, a bad token or size is INVALID_ARGUMENT naming it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from declic.common.v1 import identity_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_token,
    encode_token,
    fill_page,
    page_request,
)

KEY = (datetime, str)
START = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS = [(START + timedelta(microseconds=n // 3), f"id-{n:04}") for n in range(250)]


def walk(page_size: int, max_bytes: int = 4 * 1024 * 1024, value_bytes: int = 1) -> list[tuple[datetime, str]]:
    """Every item, page by page, as a list call reads them (the sorted list stands in for the table)."""
    seen: list[tuple[datetime, str]] = []
    token = ""
    while True:
        page = page_request(page_size, token, KEY, query="customer-1")
        rows = [item for item in ITEMS if page.after is None or item > page.after][: page.fetch]
        protos, token = fill_page(rows, page, lambda item: item,
                                  lambda item: identity_pb2.Identifier(value=item[1] * value_bytes),
                                  max_bytes=max_bytes)
        seen += [row for row in rows if row[1] * value_bytes in {p.value for p in protos}]
        if not token:
            return seen


@pytest.mark.parametrize("page_size", [1, 7, 100, 249, 250, 5000])
def test_a_walk_sees_every_item_once_in_order(page_size: int) -> None:
    assert walk(page_size) == ITEMS


def test_a_page_stops_before_its_byte_bound() -> None:
    page = page_request(100, "", KEY)
    protos, token = fill_page(ITEMS[: page.fetch], page, lambda item: item,
                              lambda item: identity_pb2.Identifier(value=item[1] * 140), max_bytes=10_000)
    assert len(protos) == 10 and sum(p.ByteSize() for p in protos) <= 10_000
    assert decode_token(token, KEY, "") == ITEMS[9]
    # ~1,000 bytes an item, 10 KB a page: the walk still sees every item once.
    assert walk(100, max_bytes=10_000, value_bytes=140) == ITEMS


def test_page_size_defaults_and_is_lowered_to_the_maximum() -> None:
    assert page_request(0, "", KEY).size == DEFAULT_PAGE_SIZE
    assert page_request(10**6, "", KEY).size == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument, match="^page_size: must be >= 0"):
        page_request(-1, "", KEY)


def test_a_token_holds_its_typed_position() -> None:
    token = encode_token(ITEMS[5], "customer-1")
    assert decode_token(token, KEY, "customer-1") == ITEMS[5]


@pytest.mark.parametrize("token", ["x", "not a token", "A" * 2000, encode_token([1, "a"], "q"),
                                   encode_token(["2026-01-01", "a", "b"], "q"), encode_token([None, "a"], "q"),
                                   encode_token(["2026-01-01", "a\x00"], "q")])
def test_a_bad_token_names_page_token(token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        decode_token(token, KEY, "q")
    assert refused.value.violations[0][0] == "page_token"
    assert len(refused.value.message) < 200


def test_a_forged_integer_the_database_cannot_take_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        decode_token(encode_token([2**70], "q"), (int,), "q")
    assert decode_token(encode_token([2**62], "q"), (int,), "q") == (2**62,)


def test_a_token_of_another_query_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="another query"):
        decode_token(encode_token(ITEMS[0], "customer-1"), KEY, "customer-2")


@given(st.text(max_size=200))
def test_any_damaged_token_is_refused_or_a_position(damage: str) -> None:
    token = encode_token(ITEMS[0], "q")
    try:
        decoded = decode_token(token[: len(token) // 2] + damage, KEY, "q")
    except InvalidArgument as refused:
        assert refused.violations[0][0] == "page_token"
    else:
        assert isinstance(decoded[0], datetime) and isinstance(decoded[1], str)
