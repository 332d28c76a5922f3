"""The door's checker: one Python function per message type, written from its descriptor on first use.

Why a descriptor-driven checker rather than protovalidate annotations: the rules we need are the same for every
field of a kind (a known enum value, a Timestamp in range, a bounded string, list or map), so defaults derived from
the descriptors cover every field, and an RPC or a field added later, without anyone remembering to annotate it;
protovalidate bounds only the fields that carry an annotation. Its annotations would also need
buf.build/bufbuild/protovalidate's validate.proto at `buf lint` and stub generation time, and buf.build cannot be
reached from our machines (only PyPI and npm), and its rules run as CEL expressions interpreted per field, where
ingest's batches must stay at tens of thousands of events a second. The few fields that differ are data in
`limits.FIELD_RULES`; a unit test holds every entry to an existing field.

Why generated code: ingest checks every field of tens of thousands of events a second, and a field costs about
as much as the call that would check it. So each type's function reads its fields in straight-line code
(`source_of(descriptor)` shows it), each set message field checked by its own type's function, lists and maps
by the checks of `values`. A oneof reads only its set member.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from declic.kit.request_validation import limits
from declic.kit.request_validation.values import MESSAGE_CHECKS, Violations, enum_type, field_check

TypeCheck = Callable[[Message, str, Violations], None]
"""check(message, prefix of its fields' paths, violations)."""

_checks: dict[type, TypeCheck] = {}


def walk(message: Message, prefix: str, found: Violations) -> None:
    """Append to `found` every rule `message` breaks, field paths starting with `prefix` ("" or "event.")."""
    check = _checks.get(type(message))
    if check is None:
        check = _checks[type(message)] = _compile(cast(Descriptor, message.DESCRIPTOR))
    check(message, prefix, found)


def _nested(value: Message, path: str, found: Violations) -> None:
    walk(value, path + ".", found)


def source_of(descriptor: Descriptor) -> tuple[str, dict[str, Any]]:
    """The source of the check of one message type, and the constants it refers to."""
    constants: dict[str, Any] = {"walk": walk, "isfinite": math.isfinite}

    def constant(value: Any) -> str:
        name = f"c{len(constants)}"
        constants[name] = value
        return name

    lines = ["def check(m, p, found):"]
    oneofs: dict[str, list[FieldDescriptor]] = {}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and len(oneof.fields) > 1:
            oneofs.setdefault(oneof.name, []).append(field)
        else:
            lines += _field_lines(field, constant, "    ", known_set=False)
    for name, members in oneofs.items():
        lines.append(f"    w = m.WhichOneof({name!r})")
        for position, field in enumerate(members):
            body = _field_lines(field, constant, "        ", known_set=True)
            if body:
                lines.append(f"    {'if' if position == 0 else 'elif'} w == {field.name!r}:")
                lines += body
    if len(lines) == 1:
        lines.append("    pass")
    return "\n".join(lines) + "\n", constants


def _field_lines(field: FieldDescriptor, constant: Callable[[Any], str], indent: str, known_set: bool) -> list[str]:
    """The lines that check one field; `known_set` when the field is known to be set (a oneof's member)."""
    rule = limits.FIELD_RULES.get(field.full_name, limits.FieldRule())
    name, value = field.name, f"m.{field.name}"
    path = f"p + {name!r}"
    kind = field.type
    if not field.is_repeated and kind in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        limit = (rule.max_chars or limits.MAX_STRING_CHARS) if kind == FieldDescriptor.TYPE_STRING \
            else limits.MAX_BYTES
        unit = "characters" if kind == FieldDescriptor.TYPE_STRING else "bytes"
        reason = constant(f"must be at most {limit:,} {unit}")
        lines = [f"{indent}if len({value}) > {limit}:", f"{indent}    found.append(({path}, {reason}))"]
        if kind == FieldDescriptor.TYPE_STRING:
            lines += [f"{indent}elif {limits.NUL!r} in {value}:",
                      f"{indent}    found.append(({path}, {limits.NUL_REASON!r}))"]
        return lines
    if not field.is_repeated and kind == FieldDescriptor.TYPE_ENUM:
        enum = enum_type(field)
        known = constant(frozenset(v.number for v in enum.values))
        return [f"{indent}if {value} not in {known}:",
                f"{indent}    found.append(({path}, f'{{{value}}} is not a known {enum.name}'))"]
    if not field.is_repeated and kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return [f"{indent}if not isfinite({value}):", f"{indent}    found.append(({path}, 'must be a finite number'))"]
    if not field.is_repeated and kind == FieldDescriptor.TYPE_MESSAGE:
        if rule.answered_per_item:
            return []
        special = MESSAGE_CHECKS.get(field.message_type.full_name)  # type: ignore[union-attr] # a message field
        call = f"{constant(special)}({value}, {path}, found)" if special \
            else f"walk({value}, p + {name + '.'!r}, found)"
        return [f"{indent}{call}"] if known_set else [f"{indent}if m.HasField({name!r}):", f"{indent}    {call}"]
    check = field_check(field, rule, _nested)
    if check is None:
        return []  # integers and booleans: every value is well-formed; their meaning is the domain's to judge
    return [f"{indent}v = {value}", f"{indent}if v:", f"{indent}    {constant(check)}(v, {path}, found)"]


def _compile(descriptor: Descriptor) -> TypeCheck:
    source, namespace = source_of(descriptor)
    exec(compile(source, f"<door check of {descriptor.full_name}>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["check"]  # type: ignore[no-any-return]
