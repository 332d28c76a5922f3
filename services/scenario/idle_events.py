"""Hand-off records that change nothing, known from the few protobuf fields the triggers of their type read.

Most of a stream is page views that start no scenario and steer no journey. Whether an event starts a scenario
depends only on the part of it its type's triggers read (the matcher remembers its outcomes by that part already);
when that part is a few plain fields of the payload (text, numbers: the same in the protobuf message as in the
event's facts) and the type steers no journey, an event whose values of those fields were seen to change nothing
changes nothing either — and its facts need not be built nor matched again.
"""

from __future__ import annotations

from typing import Any

from declic.common.v1 import event_pb2
from services.scenario.domain.matching import Matcher

_REMEMBERED = 20_000
"""Values remembered (then forgotten all at once)."""


class IdleEvents:
    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._plans: dict[str, tuple[str, ...] | None] = {}
        self._idle: set[tuple[Any, ...]] = set()

    def key(self, event: event_pb2.Event) -> tuple[Any, ...] | None:
        """What decides whether `event` may change anything, when a few plain payload fields do; else None."""
        kind = event.WhichOneof("payload")
        if kind is None:
            return None
        if kind not in self._plans:
            self._plans[kind] = self._plan(kind)
        plan = self._plans[kind]
        if plan is None:
            return None
        payload = getattr(event, kind)
        return (kind, *[getattr(payload, name) for name in plan])

    def known_idle(self, key: tuple[Any, ...] | None) -> bool:
        return key is not None and key in self._idle

    def remember_idle(self, key: tuple[Any, ...] | None) -> None:
        """An event of this key was matched and changes nothing."""
        if key is not None:
            if len(self._idle) >= _REMEMBERED:
                self._idle.clear()
            self._idle.add(key)

    def _plan(self, kind: str) -> tuple[str, ...] | None:
        """The payload fields whose values decide it for this type (possibly none), or None when they do not."""
        if self.matcher.reacts_to(kind):
            return None
        reads = self.matcher.reads(kind)
        if reads is None:
            return ()  # nothing starts on it: the type alone decides
        fields, with_now = reads
        if with_now or fields is None or any(top != kind for top in fields):
            return None
        subs = fields.get(kind)
        descriptor = event_pb2.Event.DESCRIPTOR.fields_by_name[kind].message_type
        if subs is None or descriptor is None:
            return None
        for name in subs:
            field = descriptor.fields_by_name.get(name)
            if field is None or field.message_type is not None or field.enum_type is not None or field.is_repeated:
                return None
        return tuple(sorted(subs))
