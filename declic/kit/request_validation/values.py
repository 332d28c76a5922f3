"""Checks of one field's value: a string's length, an enum's number, a Timestamp's range, a list's or a map's size
(then each item), and the messages with rules of their own (Timestamp, Duration, Money). `checker` builds each
message type's check from them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from declic.kit.request_validation import limits

Violations = list[tuple[str, str]]
Check = Callable[[Any, str, Violations], None]
"""check(value, path of the field, violations): appends (path, reason) when the value breaks a rule."""

_EARLIEST = int(limits.EARLIEST_TIME.timestamp())
_LATEST = int(limits.LATEST_TIME.timestamp())
_TIME_RANGE = f"must be from {limits.EARLIEST_TIME:%Y-%m-%d} to before {limits.LATEST_TIME:%Y-%m-%d} (UTC)"
_NANOS = 999_999_999


def field_check(field: FieldDescriptor, rule: limits.FieldRule, nested: Check) -> Check | None:
    """The check of a whole field's value (a list or map included), or None when nothing can be wrong with it;
    `nested` checks a message of no special type (the checker's walk)."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_check(field, rule, nested)
    item = _item_check(field, rule, nested)
    if not field.is_repeated:
        return item
    return _repeated_check(item, rule.max_items or limits.MAX_ITEMS)


def _item_check(field: FieldDescriptor, rule: limits.FieldRule, nested: Check) -> Check | None:
    """The check of one value of the field (one item when repeated)."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _string_check(rule.max_chars or limits.MAX_STRING_CHARS)
    if kind == FieldDescriptor.TYPE_BYTES:
        return _length_check(limits.MAX_BYTES, "bytes")
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum_check(field)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _finite
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if rule.answered_per_item:
            return None
        return MESSAGE_CHECKS.get(_message_type(field).full_name, nested)
    return None  # integers and booleans: every value is well-formed; their meaning is the domain's to judge


def _length_check(limit: int, unit: str) -> Check:
    reason = f"must be at most {limit:,} {unit}"

    def check(value: str | bytes, path: str, found: Violations) -> None:
        if len(value) > limit:
            found.append((path, reason))

    return check


def _string_check(limit: int) -> Check:
    too_long = f"must be at most {limit:,} characters"

    def check(value: str, path: str, found: Violations) -> None:
        if len(value) > limit:
            found.append((path, too_long))
        elif limits.NUL in value:
            found.append((path, limits.NUL_REASON))

    return check


def _enum_check(field: FieldDescriptor) -> Check:
    enum = enum_type(field)
    known = frozenset(value.number for value in enum.values)

    def check(value: int, path: str, found: Violations) -> None:
        if value not in known:
            found.append((path, f"{value} is not a known {enum.name}"))

    return check


def _finite(value: float, path: str, found: Violations) -> None:
    if not math.isfinite(value):
        found.append((path, "must be a finite number"))


def _timestamp(value: Any, path: str, found: Violations) -> None:
    if not _EARLIEST <= value.seconds < _LATEST:
        found.append((path, _TIME_RANGE))
    if not 0 <= value.nanos <= _NANOS:
        found.append((path + ".nanos", "must be from 0 to 999,999,999"))


def _duration(value: Any, path: str, found: Violations) -> None:
    seconds, nanos = value.seconds, value.nanos
    if abs(seconds) > limits.MAX_DURATION_SECONDS:
        found.append((path, f"must be within ±{limits.MAX_DURATION_SECONDS:,} seconds"))
    if abs(nanos) > _NANOS or (seconds > 0 > nanos) or (seconds < 0 < nanos):
        found.append((path + ".nanos", "must be within ±999,999,999 and of the same sign as seconds"))


def _money(value: Any, path: str, found: Violations) -> None:
    if len(value.currency_code) > limits.MAX_STRING_CHARS:
        found.append((path + ".currency_code", f"must be at most {limits.MAX_STRING_CHARS:,} characters"))
    elif limits.NUL in value.currency_code:
        found.append((path + ".currency_code", limits.NUL_REASON))
    units, nanos = value.units, value.nanos
    if abs(nanos) > _NANOS or (units > 0 > nanos) or (units < 0 < nanos):
        found.append((path + ".nanos", "must be within ±999,999,999 and of the same sign as units"))


MESSAGE_CHECKS: dict[str, Check] = {
    # Messages with rules of their own: each check covers every field of its message (a field added to Money
    # needs a line in _money).
    "google.protobuf.Timestamp": _timestamp,
    "google.protobuf.Duration": _duration,
    "declic.common.v1.Money": _money,
}


def _repeated_check(item: Check | None, limit: int) -> Check:
    too_many = f"must have at most {limit:,} items"

    def check(values: Any, path: str, found: Violations) -> None:
        if len(values) > limit:
            found.append((path, too_many))
            return  # a list past its bound is not walked: the walk stays bounded too
        if item is not None:
            for index, value in enumerate(values):
                item(value, f"{path}[{index}]", found)

    return check


def _map_check(field: FieldDescriptor, rule: limits.FieldRule, nested: Check) -> Check:
    limit = rule.max_items or limits.MAX_ITEMS
    entry = _message_type(field)
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    value_check = _item_check(value_field, limits.FieldRule(max_chars=rule.max_chars), nested)
    string_keys = key_field.type == FieldDescriptor.TYPE_STRING
    too_many = f"must have at most {limit:,} entries"
    long_key = f"keys must be at most {limits.MAX_MAP_KEY_CHARS:,} characters"

    def check(values: Any, path: str, found: Violations) -> None:
        if len(values) > limit:
            found.append((path, too_many))
            return
        for key, value in values.items():
            if string_keys and len(key) > limits.MAX_MAP_KEY_CHARS:
                found.append((path, long_key))  # the key itself is not echoed: it is too long to be
                continue
            if string_keys and limits.NUL in key:
                found.append((path, f"keys {limits.NUL_REASON}"))
                continue
            if value_check is not None:
                value_check(value, f"{path}[{key!r}]", found)

    return check


def enum_type(field: FieldDescriptor) -> EnumDescriptor:
    """The enum of an enum field (typed: the descriptor's attribute is optional)."""
    assert field.enum_type is not None, field.full_name
    return field.enum_type


def _message_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, field.full_name
    return field.message_type
