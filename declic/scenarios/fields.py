"""The field types scenario files use: durations, local times, CEL conditions, names of things."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from declic.scenarios.conditions import Condition
from declic.scenarios.durations import describe, parse_duration, parse_local_time

EventType = Literal["identify", "page_view", "product_view", "cart_change", "order", "message_engagement"]
Channel = Literal["email", "sms", "push", "web", "print", "call_center"]
Kind = Literal["time", "event", "behaviour", "conversion", "transaction", "campaign"]
Category = Literal["marketing", "service", "transactional"]
Engagement = Literal["delivered", "opened", "clicked", "converted", "unsubscribed"]


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


def _local_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    return parse_local_time(value)


def _condition(value: Any) -> Condition:
    if isinstance(value, Condition):
        return value
    if not isinstance(value, str | bool | int | float):
        raise ValueError("must be a CEL expression (text)")
    return Condition(str(value).lower() if isinstance(value, bool) else str(value))


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(describe)]
LocalTime = Annotated[time, BeforeValidator(_local_time), PlainSerializer(lambda t: t.strftime("%H:%M"))]
Expression = Annotated[Condition, BeforeValidator(_condition), PlainSerializer(lambda c: c.source)]


class Model(BaseModel):
    """Strict: an unknown field is an error (a typo must not silently do nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True)


class EventMatch(Model):
    """An event of a type, and optionally a condition on it: `{event: order, when: 'event.order.total > 50.0'}`."""

    event: EventType
    when: Expression | None = None
