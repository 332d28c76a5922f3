"""The door's checker over every request message of every service: each checked field, at any depth, is refused
when it breaks its rule (named by its path, the value never echoed). Walking the service descriptors means a new
RPC or field is covered the day it is added."""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from declic.kit import request_validation
from declic.kit.request_validation import limits

SERVICES = ("ingest", "profile", "scenario", "recommend", "arbiter", "dispatch")
LONG = "é" * 5_000  # past every string limit, in characters
BAD_SCALARS = {FieldDescriptor.TYPE_STRING: LONG, FieldDescriptor.TYPE_BYTES: b"x" * (limits.MAX_BYTES + 1),
               FieldDescriptor.TYPE_ENUM: 999, FieldDescriptor.TYPE_DOUBLE: math.nan,
               FieldDescriptor.TYPE_FLOAT: math.inf}
Break = Callable[[Message], None]


def request_types() -> list[Descriptor]:
    """The request message of every RPC of every service, found through the generated modules."""
    found: dict[str, Descriptor] = {}
    for service in SERVICES:
        package = importlib.import_module(f"declic.{service}.v1")
        for module_info in pkgutil.iter_modules(package.__path__):
            if module_info.name.endswith("_pb2"):
                module = importlib.import_module(f"{package.__name__}.{module_info.name}")
                for described in module.DESCRIPTOR.services_by_name.values():
                    found.update({method.input_type.full_name: method.input_type for method in described.methods})
    return list(found.values())


def roots() -> list[Descriptor]:
    """Request types, plus the items their services answer one by one (which the service checks as roots)."""
    types = request_types()
    return types + [field.message_type for descriptor in types for field in descriptor.fields
                    if _rule(field).answered_per_item]


@dataclass(frozen=True)
class Case:
    root: Descriptor
    path: str
    """The field path the violation must name."""
    steps: tuple[FieldDescriptor, ...]
    """Message fields to walk down from the root (the first item of repeated ones)."""
    breaks: Break

    def message(self) -> Message:
        root = GetMessageClass(self.root)()
        target = root
        for field in self.steps:
            target = getattr(target, field.name).add() if field.is_repeated else getattr(target, field.name)
        self.breaks(target)
        return root


def cases(root: Descriptor, descriptor: Descriptor, path: str = "",
          steps: tuple[FieldDescriptor, ...] = ()) -> Iterator[Case]:
    """One case per rule of every field under `descriptor` (each message type once per branch: no cycles)."""
    for field in descriptor.fields:
        rule, where = _rule(field), f"{path}{field.name}"
        if rule.answered_per_item or any(step.message_type == field.message_type for step in steps):
            continue
        message = field.message_type
        if message is not None and message.GetOptions().map_entry:
            yield Case(root, where, steps, _too_many_entries(field, rule.max_items or limits.MAX_ITEMS))
            yield Case(root, where, steps, lambda m, f=field: _map_set(getattr(m, f.name), "k" * 300))
        elif field.is_repeated:
            yield Case(root, where, steps, _too_many_items(field, rule.max_items or limits.MAX_ITEMS))
            if message is None and field.type in BAD_SCALARS:
                yield Case(root, f"{where}[0]", steps,
                           lambda m, f=field: getattr(m, f.name).append(BAD_SCALARS[f.type]))
            elif message is not None:
                yield from _message_cases(root, field, f"{where}[0]", steps)
        elif message is not None:
            yield from _message_cases(root, field, where, steps)
        elif field.type in BAD_SCALARS:
            yield Case(root, where, steps, lambda m, f=field: setattr(m, f.name, BAD_SCALARS[f.type]))


def _message_cases(root: Descriptor, field: FieldDescriptor, where: str,
                   steps: tuple[FieldDescriptor, ...]) -> Iterator[Case]:
    inner = (*steps, field)
    if field.message_type.full_name == "google.protobuf.Timestamp":
        yield Case(root, where, inner, lambda t: setattr(t, "seconds", 2**62))
        yield Case(root, where, inner, lambda t: setattr(t, "seconds", -62135596800))  # year 1
        yield Case(root, f"{where}.nanos", inner, lambda t: setattr(t, "nanos", -1))
    elif field.message_type.full_name == "google.protobuf.Duration":
        yield Case(root, where, inner, lambda d: setattr(d, "seconds", 2**40))
    else:
        yield from cases(root, field.message_type, f"{where}.", inner)


def _rule(field: FieldDescriptor) -> limits.FieldRule:
    return limits.FIELD_RULES.get(field.full_name, limits.FieldRule())


def _too_many_items(field: FieldDescriptor, limit: int) -> Break:
    def apply(message: Message) -> None:
        items = getattr(message, field.name)
        for _ in range(limit + 1):
            if field.message_type is not None:
                items.add()
            else:
                items.append({FieldDescriptor.TYPE_STRING: "x", FieldDescriptor.TYPE_BYTES: b"x"}.get(field.type, 1))
    return apply


def _too_many_entries(field: FieldDescriptor, limit: int) -> Break:
    return lambda message: [_map_set(getattr(message, field.name), f"k{n}") for n in range(limit + 1)]


def _map_set(entries: object, key: str) -> None:
    value_field = next(f for f in entries.GetEntryClass().DESCRIPTOR.fields if f.name == "value")  # type: ignore[attr-defined]
    if value_field.message_type is not None:
        entries.get_or_create(key)  # type: ignore[attr-defined]
    else:
        entries[key] = type(value_field.default_value)()  # type: ignore[index]


ALL_CASES = [case for root in roots() for case in cases(root, root)]


def test_every_service_has_request_types_and_cases() -> None:
    names = {descriptor.full_name for descriptor in request_types()}
    assert {f"declic.{service}.v1" for service in SERVICES} <= {name.rsplit(".", 1)[0] for name in names}
    assert len(ALL_CASES) > 200


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: f"{c.root.name}.{c.path}")
def test_each_broken_rule_is_named_by_its_path_and_never_echoes_the_value(case: Case) -> None:
    found = request_validation.violations(case.message())
    assert case.path in {path for path, _ in found}, found
    assert all(LONG[:20] not in reason and "k" * 300 not in path + reason for path, reason in found)


@pytest.mark.parametrize("descriptor", request_types(), ids=lambda d: d.full_name)
def test_an_empty_request_breaks_no_default(descriptor: Descriptor) -> None:
    assert request_validation.violations(GetMessageClass(descriptor)()) == []


def test_every_field_rule_names_a_field_of_the_right_kind() -> None:
    fields = {field.full_name: field for root in roots() for field in _all_fields(root, set())}
    for name, rule in limits.FIELD_RULES.items():
        field = fields[name]
        assert not rule.answered_per_item or field.message_type is not None, name
        assert not rule.max_items or field.is_repeated, name
        assert not rule.max_chars or field.type == FieldDescriptor.TYPE_STRING, name


def _all_fields(descriptor: Descriptor, seen: set[str]) -> Iterator[FieldDescriptor]:
    if descriptor.full_name in seen:
        return
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        yield field
        if field.message_type is not None:
            yield from _all_fields(field.message_type, seen)
