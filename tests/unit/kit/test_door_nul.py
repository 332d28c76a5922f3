"""The door refuses a NUL character (U+0000) in any string: PostgreSQL's text cannot store one, so it used to
reach a handler and fail there with INTERNAL (found by tests/fuzz: ExportProfile and EraseProfile with
customer_id "\\x00"). Plain strings, list items, map keys and values, Money's currency code."""

from __future__ import annotations

import pytest

from declic.common.v1 import event_pb2
from declic.kit import request_validation
from declic.kit.request_validation.limits import NUL_REASON
from declic.profile.v1 import profile_pb2


def product(**fields: object) -> event_pb2.Event:
    return event_pb2.Event(event_id="e1", product_upsert=event_pb2.ProductUpsert(product_id="p1", **fields))


@pytest.mark.parametrize(("message", "path", "reason"), [
    (profile_pb2.ExportProfileRequest(customer_id="c\x00"), "customer_id", NUL_REASON),
    (product(categories=["shoes", "\x00"]), "product_upsert.categories[1]", NUL_REASON),
    (product(attributes={"colour": "red\x00"}), "product_upsert.attributes['colour']", NUL_REASON),
    (product(attributes={"col\x00our": "red"}), "product_upsert.attributes", f"keys {NUL_REASON}"),
    (product(price={"currency_code": "EU\x00"}), "product_upsert.price.currency_code", NUL_REASON),
])
def test_a_nul_character_is_refused_naming_the_field(message: object, path: str, reason: str) -> None:
    assert request_validation.violations(message) == [(path, reason)]  # type: ignore[arg-type]


def test_strings_without_nul_pass() -> None:
    assert request_validation.violations(product(categories=["shoes"], attributes={"colour": "red"})) == []
