"""What of an event a set of conditions reads, found in their text, so that only that part is handed to CEL.

Handing a value to CEL converts it whole (a few µs per field): an event's payload, context and ids cost ~60 µs
where the two fields a trigger reads cost a tenth of that. The reading is conservative: `event.page_view.url`
keeps that field; `event.order.lines.exists(…)` keeps `lines` whole; anything else (`event` alone, `event[…]`,
`event.page_view[…]`) keeps what it names whole, down to the whole event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

Fields = dict[str, frozenset[str] | None] | None
"""Top-level key → the sub-fields read (None: the whole value); None: the whole event."""

_EVENT = re.compile(r"\bevent\b(?:\s*\.\s*([A-Za-z_]\w*)(?:\s*\.\s*([A-Za-z_]\w*))?)?")


def event_fields(sources: Iterable[str]) -> Fields:
    """The parts of `event` that the expressions `sources` may read."""
    fields: dict[str, set[str] | None] = {}
    for source in sources:
        for match in _EVENT.finditer(source):
            top, sub = match.group(1), match.group(2)
            if top is None:
                return None
            if sub is None:
                fields[top] = None
            elif fields.get(top, set()) is not None:
                fields.setdefault(top, set()).add(sub)  # type: ignore[union-attr]
    return {top: None if subs is None else frozenset(subs) for top, subs in fields.items()}


def pruned(event: dict[str, Any], fields: Fields) -> dict[str, Any]:
    """`event` holding only `fields` (those it has), and its type."""
    if fields is None:
        return event
    kept: dict[str, Any] = {"type": event.get("type", "")}
    for top, subs in fields.items():
        if top not in event:
            continue
        value = event[top]
        if subs is not None and isinstance(value, dict):
            value = {sub: value[sub] for sub in subs if sub in value}
        kept[top] = value
    return kept


def reads_now(sources: Iterable[str]) -> bool:
    return any(re.search(r"\bnow\b", source) for source in sources)


@cache
def read_by(source: str) -> tuple[Fields, bool]:
    """What of `event` one expression reads, and whether it reads `journey`."""
    return event_fields([source]), re.search(r"\bjourney\b", source) is not None
