"""The door's checker: a plan compiled once per message type from its descriptor, then walked over each request.

Why a descriptor-driven checker rather than protovalidate annotations: the rules we need are the same for every
field of a kind (a known enum value, a Timestamp in range, a bounded string, list or map), so defaults derived from
the descriptors cover every field, and an RPC or a field added later, without anyone remembering to annotate it;
protovalidate bounds only the fields that carry an annotation. Its annotations would also need
buf.build/bufbuild/protovalidate's validate.proto at `buf lint` and stub generation time, and buf.build cannot be
reached from our machines (only PyPI and npm), and its rules run as CEL expressions interpreted per field, where
ingest's batches must stay at tens of thousands of events a second. The few fields that differ are data in
`limits.FIELD_RULES`; a unit test holds every entry to an existing field.

Each message type gets a plan (`plan_of`), built once from its descriptor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from declic.kit.request_validation import limits

Violations = list[tuple[str, str]]
Check = Callable[[Any, str, Violations], None]
"""check(value, path of the field, violations): appends (path, reason) when the value breaks a rule."""

_EARLIEST = int(limits.EARLIEST_TIME.timestamp())
_LATEST = int(limits.LATEST_TIME.timestamp())
_TIME_RANGE = f"must be from {limits.EARLIEST_TIME:%Y-%m-%d} to before {limits.LATEST_TIME:%Y-%m-%d} (UTC)"
_NANOS = 999_999_999


Step = Callable[[Message, str, Violations], None]
"""step(message, prefix, violations): checks one field (or one oneof) of `message`."""


class _Plan:
    """How to check one message type: its plain string fields, read in a loop (most fields are strings: a call
    each would double the cost), then one step per other field that can break a rule (integers and booleans
    cannot) and per oneof of several fields (only its set member is read)."""

    __slots__ = ("steps", "strings")

    def __init__(self, strings: list[tuple[str, int, str]], steps: list[Step]) -> None:
        self.strings = tuple(strings)
        """(field name, most characters, reason)"""
        self.steps = tuple(steps)


_plans: dict[type, _Plan] = {}


def walk(message: Message, prefix: str, found: Violations) -> None:
    """Append to `found` every rule `message` breaks, field paths starting with `prefix` ("" or "event.")."""
    plan = _plans.get(type(message))
    if plan is None:
        plan = _plans[type(message)] = plan_of(message.DESCRIPTOR)
    for name, limit, reason in plan.strings:
        if len(getattr(message, name)) > limit:
            found.append((prefix + name, reason))
    for step in plan.steps:
        step(message, prefix, found)


def plan_of(descriptor: Descriptor) -> _Plan:
    """The plan of a message type, read from its descriptor and `limits`. Fields are read directly, not through
    ListFields: three to four times cheaper for our small messages."""
    strings: list[tuple[str, int, str]] = []
    steps: list[Step] = []
    members: dict[str, dict[str, Step]] = {}
    for field in descriptor.fields:
        rule = limits.FIELD_RULES.get(field.full_name, limits.FieldRule())
        oneof = field.containing_oneof
        in_oneof = oneof is not None and len(oneof.fields) > 1
        if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated and not in_oneof:
            limit = rule.max_chars or limits.MAX_STRING_CHARS
            strings.append((field.name, limit, f"must be at most {limit:,} characters"))
            continue
        step = _step(field, rule)
        if step is not None and in_oneof:
            members.setdefault(oneof.name, {})[field.name] = step
        elif step is not None:
            steps.append(step)
    steps.extend(_oneof_step(name, member_steps) for name, member_steps in members.items())
    return _Plan(strings, steps)


def _oneof_step(oneof: str, members: dict[str, Step]) -> Step:
    def step(message: Message, prefix: str, found: Violations) -> None:
        which = message.WhichOneof(oneof)
        if which in members:
            members[which](message, prefix, found)

    return step


def _step(field: FieldDescriptor, rule: limits.FieldRule) -> Step | None:
    name = field.name
    check = _field_check(field, rule)
    if check is None:
        return None
    if field.is_repeated:
        def container_step(message: Message, prefix: str, found: Violations) -> None:
            values = getattr(message, name)
            if values:
                check(values, prefix + name, found)

        return container_step
    if field.message_type is not None:
        def message_step(message: Message, prefix: str, found: Violations) -> None:
            if message.HasField(name):
                check(getattr(message, name), prefix + name, found)

        return message_step

    def scalar_step(message: Message, prefix: str, found: Violations) -> None:  # and strings within a oneof
        check(getattr(message, name), prefix + name, found)

    return scalar_step


def _field_check(field: FieldDescriptor, rule: limits.FieldRule) -> Check | None:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_check(field, rule)
    item = _item_check(field, rule)
    if not field.is_repeated:
        return item
    return _repeated_check(item, rule.max_items or limits.MAX_ITEMS)


def _item_check(field: FieldDescriptor, rule: limits.FieldRule) -> Check | None:
    """The check of one value of the field (one item when repeated)."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _length_check(rule.max_chars or limits.MAX_STRING_CHARS, "characters")
    if kind == FieldDescriptor.TYPE_BYTES:
        return _length_check(limits.MAX_BYTES, "bytes")
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum_check(field)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _finite
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if rule.answered_per_item:
            return None
        return _MESSAGE_CHECKS.get(field.message_type.full_name, _nested)
    return None  # integers and booleans: every value is well-formed; their meaning is the domain's to judge


def _length_check(limit: int, unit: str) -> Check:
    reason = f"must be at most {limit:,} {unit}"

    def check(value: str | bytes, path: str, found: Violations) -> None:
        if len(value) > limit:
            found.append((path, reason))

    return check


def _enum_check(field: FieldDescriptor) -> Check:
    enum = field.enum_type
    known = frozenset(value.number for value in enum.values)

    def check(value: int, path: str, found: Violations) -> None:
        if value not in known:
            found.append((path, f"{value} is not a known {enum.name}"))

    return check


def _finite(value: float, path: str, found: Violations) -> None:
    if not math.isfinite(value):
        found.append((path, "must be a finite number"))


def _nested(value: Message, path: str, found: Violations) -> None:
    walk(value, path + ".", found)


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
    walk(value, path + ".", found)
    units, nanos = value.units, value.nanos
    if abs(nanos) > _NANOS or (units > 0 > nanos) or (units < 0 < nanos):
        found.append((path + ".nanos", "must be within ±999,999,999 and of the same sign as units"))


_MESSAGE_CHECKS: dict[str, Check] = {
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


def _map_check(field: FieldDescriptor, rule: limits.FieldRule) -> Check:
    limit = rule.max_items or limits.MAX_ITEMS
    entry = field.message_type
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    value_check = _item_check(value_field, limits.FieldRule(max_chars=rule.max_chars))
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
            if value_check is not None:
                value_check(value, f"{path}[{key!r}]", found)

    return check
