"""Paging for every list RPC (Google AIP-158): page_size, page_token, next_page_token.

A list is read in a stable order with keyset pagination: a page's token holds the sort key of its last
item, and the next page is the items after that key (never OFFSET, so rows added meanwhile neither repeat
nor skip). The token is opaque to callers: base64url of the position, a hash of the query it belongs to
(a token is refused for another customer or filter) and a checksum (a damaged token is refused rather than
read as another position). It is not secret: a forged position only lists what the caller may list anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from declic.kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A page stops before this many bytes: under the 4 MiB a default gRPC client accepts, far under our 8 MiB.
MAX_PAGE_BYTES = 3 * 1024 * 1024
MAX_TOKEN_LENGTH = 1024
_CHECKSUM_KEY = b"declic.page_token.v1"

KeyTypes = Sequence[type | tuple[type, ...]]
Item = TypeVar("Item")


@dataclass(frozen=True)
class PageRequest:
    """What one list call asks for: how many items, after which sort key (None: from the start)."""

    size: int
    after: tuple[Any, ...] | None
    query: str

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than a page, to know whether another page follows."""
        return self.size + 1


def page_request(page_size: int, page_token: str, key_types: KeyTypes, query: str = "") -> PageRequest:
    """The page asked for; `query` names the filters a token is bound to (e.g. the customer id).

    page_size: 0 is the default, above the maximum is lowered to it, negative is INVALID_ARGUMENT.
    """
    if page_size < 0:
        raise InvalidArgument.field("page_size", "must be >= 0")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = decode_token(page_token, key_types, query) if page_token else None
    return PageRequest(size=size, after=after, query=query)


def encode_token(key: Sequence[Any], query: str) -> str:
    """The opaque token of the position after `key` (str, int, datetime or None values) in `query`."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    payload = json.dumps({"k": values, "q": _query_hash(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload + _checksum(payload)).decode().rstrip("=")


def decode_token(token: str, key_types: KeyTypes, query: str) -> tuple[Any, ...]:
    """The sort key a token holds, typed as `key_types`; INVALID_ARGUMENT naming page_token otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise _bad_token("is too long to be a page token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, checksum = raw[:-8], raw[-8:]
        if len(raw) <= 8 or checksum != _checksum(payload):
            raise _bad_token("is not a token this list gave")
        decoded = json.loads(payload)
        values, scope = decoded["k"], decoded["q"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise _bad_token("is not a token this list gave") from None
    if scope != _query_hash(query):
        raise _bad_token("was given for another query (the other fields must not change between pages)")
    if not isinstance(values, list) or len(values) != len(key_types):
        raise _bad_token("is not a token this list gave")
    return tuple(_typed(value, expected) for value, expected in zip(values, key_types, strict=True))


def fill_page(
    items: Sequence[Item],
    request: PageRequest,
    key: Callable[[Item], Sequence[Any]],
    to_proto: Callable[[Item], Message],
    max_bytes: int = MAX_PAGE_BYTES,
) -> tuple[list[Message], str]:
    """The protos of one page and its next_page_token, from `items` read with `limit=request.fetch`.

    The page stops at `request.size` items or before `max_bytes` (at least one item is always returned,
    so a page can always move forward; the door bounds every field, so one item is far under the limit).
    """
    page, more = cut_page(items, request.size, to_proto, max_bytes)
    return page, encode_token(key(items[len(page) - 1]), request.query) if more else ""


def cut_page(items: Sequence[Item], size: int, to_proto: Callable[[Item], Message],
             max_bytes: int = MAX_PAGE_BYTES) -> tuple[list[Message], bool]:
    """The protos of the first items that fit `size` and `max_bytes` (at least one), and whether more follow
    (`items` read with one more than `size`): for a response that pages several lists with one token."""
    page: list[Message] = []
    used = 0
    for item in items[:size]:
        message = to_proto(item)
        used += message.ByteSize() + 8  # the field's tag and length
        if page and used > max_bytes:
            return page, True
        page.append(message)
    return page, len(items) > size


def _typed(value: Any, expected: type | tuple[type, ...]) -> Any:
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if value is None and type(None) in allowed:
        return None
    if datetime in allowed and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise _bad_token("is not a token this list gave") from None
    if isinstance(value, bool) or not isinstance(value, tuple(t for t in allowed if t is not datetime)):
        raise _bad_token("is not a token this list gave")
    # A forged position still reaches the database only as values it takes (the checksum's key is no secret).
    if isinstance(value, int) and not -(2**63) <= value < 2**63 or isinstance(value, str) and "\x00" in value:
        raise _bad_token("is not a token this list gave")
    return value


def _bad_token(why: str) -> InvalidArgument:
    return InvalidArgument.field("page_token", why)


def _query_hash(query: str) -> str:
    return hashlib.blake2b(query.encode(), digest_size=6).hexdigest()


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, key=_CHECKSUM_KEY, digest_size=8).digest()


def every_item(call: Callable[..., Any], request: Any, field: str, **options: Any) -> Iterator[Any]:
    """Client side: every item of a list RPC's `field`, following next_page_token from `request` on
    (`options` such as timeout go to each call)."""
    request = type(request).FromString(request.SerializeToString())  # the caller's request stays as it was
    while True:
        response = call(request, **options)
        yield from getattr(response, field)
        if not response.next_page_token:
            return
        request.page_token = response.next_page_token
