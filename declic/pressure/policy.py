"""The pressure policy: data a marketer edits (policies/pressure.yaml), validated here.

Every rule the arbiter applies is a field of `Policy`: caps per person (global, per channel, per
category) over rolling or calendar windows, the minimum gap, cool-offs, quiet hours, priorities
and the loser's fate, control groups. Shared by the arbiter (which applies it) and the CLI
(`declic policy validate`); durations are written as in scenario files ("30 minutes", "7 days").
Loading a file (and naming the line of a bad field) is `declic.pressure.loader`.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from declic.scenarios.durations import describe, parse_duration


def _duration(value: object) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(str(value))


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(describe)]
"""A policy duration: "30 minutes", "4 hours", "7 days", "2 weeks"."""

CHANNELS = ("email", "sms", "push", "web", "print", "call_center")
Channel = Literal["email", "sms", "push", "web", "print", "call_center"]
LoserFate = Literal["drop", "defer", "downgrade"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """Exactly one of: a rolling duration ("7d"), or a calendar "day"/"week" in the person's timezone."""

    rolling: Duration | None = None
    calendar: Literal["day", "week"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        if (self.rolling is None) == (self.calendar is None):
            raise ValueError("give exactly one of rolling (e.g. 7d) or calendar (day or week)")
        if self.rolling is not None and self.rolling <= timedelta(0):
            raise ValueError("rolling must be longer than 0")
        return self

    def longest(self) -> timedelta:
        """The longest time an entry can count in this window."""
        if self.rolling is not None:
            return self.rolling
        return timedelta(days=1 if self.calendar == "day" else 7)

    def label(self) -> str:
        if self.rolling is not None:
            return f"rolling {self.rolling.days} days" if self.rolling.days else f"rolling {self.rolling}"
        return f"calendar {self.calendar}"


class Cap(_Strict):
    """At most `limit` marketing messages in `window`, over everything (global), one channel or one category."""

    name: str = Field(min_length=1, max_length=60)
    scope: Literal["global", "channel", "category"] = "global"
    value: str = ""
    limit: int = Field(ge=0)
    window: Window

    @model_validator(mode="after")
    def _value_matches_scope(self) -> Cap:
        if self.scope == "global" and self.value:
            raise ValueError("a global cap takes no value")
        if self.scope != "global" and not self.value:
            raise ValueError(f"a {self.scope} cap needs a value (which {self.scope})")
        if self.scope == "channel" and self.value not in CHANNELS:
            raise ValueError(f"value: {self.value!r} is not a channel ({', '.join(CHANNELS)})")
        return self


class QuietHours(_Strict):
    """No marketing message between `start` and `end` local time (may span midnight) on these channels."""

    start: time
    end: time
    channels: tuple[Channel, ...] = CHANNELS  # type: ignore[assignment]


class CoolOffs(_Strict):
    """How long after each event the person gets no marketing message (unsubscribe: on that channel only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    complaint: Duration | None = None
    unsubscribe: Duration | None = None
    return_: Duration | None = Field(default=None, alias="return")


class PriorityRules(_Strict):
    """Who wins when several firings compete for one person, and what the loser gets."""

    holding_window: Duration = timedelta(0)
    """A marketing firing is held (deferred) this long before it is allowed; a higher priority arriving meanwhile
    takes its slot. 0: first come, first served. It is also every marketing message's worst-case added delay."""
    order: Literal["by_priority", "triggers_first", "campaigns_first"] = "by_priority"
    default_loser: LoserFate = "drop"
    max_defer: Duration = timedelta(days=7)
    """A loser is never deferred further than this ahead: it is dropped instead."""
    event_window: Duration = timedelta(days=30)
    """One message per originating event within this time."""


class ScenarioRules(_Strict):
    """What the policy says about one scenario or campaign (by its id)."""

    priority: int | None = Field(default=None, ge=-1000, le=1000)
    category: str | None = None
    loser: LoserFate | None = None
    holdout_percent: float = Field(default=0, ge=0, le=100)


_NO_RULES = ScenarioRules()
"""A scenario the policy does not name (made once: a pydantic model validates each time it is made, 10 us)."""


class ControlGroup(_Strict):
    global_percent: float = Field(default=0, ge=0, le=100)
    """A share of customers who get no marketing message at all (stable hash of the customer id)."""


class Policy(_Strict):
    """The whole pressure policy. `version` is the file's content hash, set by the loader."""

    timezone: str = "UTC"
    default_category: str = "promotional"
    caps: tuple[Cap, ...] = ()
    min_gap: Duration = timedelta(0)
    cool_off: CoolOffs = CoolOffs()
    quiet_hours: QuietHours | None = None
    priority: PriorityRules = PriorityRules()
    control_group: ControlGroup = ControlGroup()
    scenarios: dict[str, ScenarioRules] = {}
    version: str = "builtin"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _unique_cap_names(self) -> Policy:
        names = [cap.name for cap in self.caps]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"cap names must be unique: {', '.join(duplicated)}")
        return self

    def longest_window(self) -> timedelta:
        """How far back any rule looks: what the counters must keep (and rebuild) per person."""
        spans = [cap.window.longest() for cap in self.caps]
        spans += [self.min_gap, self.priority.event_window, self.priority.holding_window]
        return max(spans, default=timedelta(days=1))

    def for_scenario(self, scenario_id: str) -> ScenarioRules:
        """The scenario's entry, else the "*" entry (every scenario), else the defaults."""
        return self.scenarios.get(scenario_id) or self.scenarios.get("*") or _NO_RULES


def simple_policy(cap: int = 3, window: timedelta = timedelta(days=7), control_group_percent: float = 0) -> Policy:
    """A policy of one global rolling cap (and a holdout for every scenario): the settings' fallback, and tests'."""
    holdout = {"*": ScenarioRules(holdout_percent=control_group_percent)} if control_group_percent else {}
    return Policy(caps=(Cap(name="global", limit=cap, window=Window(rolling=window)),), scenarios=holdout)
