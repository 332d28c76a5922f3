"""Fuzzed requests for every public RPC, built from the message descriptors of the generated `*_pb2` modules.

`public_methods()` walks every service's descriptors, so an RPC added later is fuzzed the day it is added;
`request_bytes(method.input)` draws what a client could put on the wire for it: a message of any fields and
values (unknown enum numbers, Timestamps out of range, long strings and lists of a bounded size, nested
messages, maps), mostly plausible so that handlers are reached, and raw bytes (random, a valid message
truncated or with a byte changed, a string field holding invalid UTF-8). Used by tests/fuzz and by
`make fuzz` (benchmarks/fuzz.py).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from declic.kit.config import SERVICES

MAX_DEPTH = 4
"""Nested messages deeper than this are left empty (the contracts nest about three deep)."""
LONG_STRING_CHARACTERS = 5_000
"""Long strings go up to here: past every limit of the door (1,024, URLs 4,096), small enough to send fast."""
LONG_DEPTH = 1
"""Messages nested deeper than this (and the items of a long list) hold only short strings and lists."""
LONG_LIST_ITEMS = 120
"""Long lists go up to here: past the door's default of 100 items."""

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-2**31, 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-2**31, 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-2**31, 2**31 - 1), FieldDescriptor.TYPE_INT64: (-2**63, 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-2**63, 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-2**63, 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1), FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
PLAUSIBLE_SHARE = 8
"""One field value in this many is odd (see `mostly`)."""
PLAUSIBLE_SECONDS = {
    # From 1900 to 2200 (the door's range for a Timestamp), and ±100 years (a Duration's).
    "google.protobuf.Timestamp": (-2_208_988_800, 7_258_118_399),
    "google.protobuf.Duration": (-3_155_760_000, 3_155_760_000),
}


@dataclass(frozen=True)
class Method:
    """One public RPC: its path on the wire ("/declic.ingest.v1.IngestService/IngestBatch") and its shape."""

    service: str
    path: str
    input: Descriptor
    client_streaming: bool
    server_streaming: bool

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def public_methods() -> list[Method]:
    """Every RPC of every service, found through the generated modules of `declic.<service>.v1`."""
    found = []
    for service in SERVICES:
        package = importlib.import_module(f"declic.{service}.v1")
        for module_info in pkgutil.iter_modules(package.__path__):
            if not module_info.name.endswith("_pb2"):
                continue
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            for described in module.DESCRIPTOR.services_by_name.values():
                found.extend(Method(service, f"/{described.full_name}/{method.name}", method.input_type,
                                    method.client_streaming, method.server_streaming)
                             for method in described.methods)
    return found


def request_bytes(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """What a client could send for a request of type `descriptor`: mostly messages, also broken bytes."""
    serialized = messages(descriptor).map(lambda message: message.SerializeToString())
    return st.one_of(
        serialized, serialized, serialized,
        st.binary(max_size=256),
        st.builds(lambda data, cut: data[:int(len(data) * cut)], serialized, st.floats(0, 0.99)),
        st.builds(_change_one_byte, serialized, st.floats(0, 1), st.integers(0, 255)),
        invalid_utf8(descriptor),
    )


def mostly(plausible: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """`plausible` seven times in eight, else `odd` (past a limit, unknown, out of range): a request breaks
    a rule in one field or two, not in every field, so most reach the service's own checks and handlers."""
    return st.sampled_from(range(PLAUSIBLE_SHARE)).flatmap(lambda draw: odd if draw == 0 else plausible)


def messages(descriptor: Descriptor, depth: int = 0, long: bool = True) -> st.SearchStrategy[Message]:
    """A message of type `descriptor`, any of its fields set (each with any value of its type). `long`: its
    strings and lists may be long (past the door's limits); only near the top, so that a request stays small
    enough to send by the thousand (at most a few MB)."""
    message_class = GetMessageClass(descriptor)
    if depth >= MAX_DEPTH:
        return st.just(message_class())
    long = long and depth <= LONG_DEPTH
    optional = {field.name: _field_values(field, depth, long) for field in descriptor.fields}
    return st.fixed_dictionaries({}, optional=optional).map(lambda values: _build(message_class, values))


def invalid_utf8(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """A message whose string field (at any depth) holds bytes that are not UTF-8; random bytes when the type
    has no string field."""
    paths = _string_paths(descriptor, depth=0)
    if not paths:
        return st.binary(max_size=64)
    invalid = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    return st.builds(_nest, st.sampled_from(paths), st.binary(max_size=16), invalid)


def _field_values(field: FieldDescriptor, depth: int, long: bool) -> st.SearchStrategy:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(_single_value(key, depth, long), _single_value(value, depth, long), max_size=4)
    single = _single_value(field, depth, long)
    if not field.is_repeated:
        return single
    if not long:
        return st.lists(single, max_size=3)
    many = st.builds(lambda item, count: [item] * count, _single_value(field, depth, long=False),
                     st.integers(1, LONG_LIST_ITEMS))
    return mostly(st.lists(single, max_size=3), many)


def _single_value(field: FieldDescriptor, depth: int, long: bool) -> st.SearchStrategy:
    kind = field.type
    if field.message_type is not None:
        return messages(field.message_type, depth + 1, long)
    if kind == FieldDescriptor.TYPE_ENUM:
        known = [value.number for value in field.enum_type.values]
        return mostly(st.sampled_from(known), st.integers(*INT_RANGES[FieldDescriptor.TYPE_INT32]))
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        plausible = PLAUSIBLE_SECONDS.get(field.containing_type.full_name) if field.name == "seconds" else None
        if plausible:
            return mostly(st.integers(*plausible), st.integers(low, high))
        return mostly(st.integers(max(low, -10), 1_000), st.integers(low, high))
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if kind == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    if kind == FieldDescriptor.TYPE_STRING and not long:
        return st.text(max_size=24)
    if kind == FieldDescriptor.TYPE_STRING:
        repeated_text = st.builds(lambda text, count: text * count, st.text(min_size=1, max_size=3),
                         st.integers(1, LONG_STRING_CHARACTERS // 3))
        return mostly(st.text(max_size=24), repeated_text)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    raise TypeError(f"no strategy for {field.full_name} (protobuf type {kind})")


def _build(message_class: type[Message], values: dict) -> Message:
    message = message_class()
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if field.message_type.fields_by_name["value"].message_type is not None:
                    target[key].CopyFrom(item)
                else:
                    target[key] = item
        elif field.is_repeated:
            target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def _string_paths(descriptor: Descriptor, depth: int) -> list[tuple[int, ...]]:
    """Field numbers leading to each string field, nested messages included up to MAX_DEPTH."""
    paths: list[tuple[int, ...]] = []
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append((field.number,))
        elif field.message_type is not None and depth < MAX_DEPTH:
            paths.extend((field.number, *rest) for rest in _string_paths(field.message_type, depth + 1))
    return paths


def _nest(path: tuple[int, ...], prefix: bytes, invalid: bytes) -> bytes:
    """The wire bytes of a message whose string at `path` is `prefix` + `invalid` (length-delimited all the way)."""
    payload = prefix + invalid
    for number in reversed(path):
        payload = _varint(number << 3 | 2) + _varint(len(payload)) + payload
    return payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _change_one_byte(data: bytes, where: float, new: int) -> bytes:
    if not data:
        return bytes([new])
    index = min(int(len(data) * where), len(data) - 1)
    return data[:index] + bytes([new]) + data[index + 1:]
