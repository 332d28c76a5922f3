"""A scenario file: who may enter (targeting), what starts it (trigger), what it says (personalisation),
what stops it (interruption), what counts as success (goal), how often one may enter (re_entry), the share
held out as a control group (holdout) and its steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from declic.scenarios.fields import Category, Channel, Duration, EventMatch, EventType, Expression, Kind, Model
from declic.scenarios.steps import EXIT, Recommendation, Step

LIFECYCLE = Literal["prospect", "new_customer", "active", "loyal", "at_risk", "lapsed"]
SEGMENT_KINDS = ("birthday_today", "last_order_containing", "repurchase_overdue", "everyone")


class Targeting(Model):
    """Who may enter: reachable on one of `contactable_on`, in one of `lifecycle`, and `condition` true."""

    contactable_on: list[Channel] = []
    lifecycle: list[LIFECYCLE] = []
    condition: Expression | None = None


class SegmentCondition(Model):
    """A filter profile applies: `{field: days_since_last_order, comparison: greater, value: 90}`."""

    field: Literal["days_since_last_order", "days_since_first_order", "order_count", "monetary_value",
                   "average_interval_days", "promo_sensitivity"]
    comparison: Literal["less", "less_or_equal", "greater", "greater_or_equal", "equal", "not_equal"]
    value: float


class Segment(Model):
    """Profiles to enter, as profile's QuerySegment understands them: one kind (or everyone), plus filters."""

    birthday_today: dict[str, Any] | None = None
    last_order_containing: dict[str, Any] | None = None
    repurchase_overdue: dict[str, Any] | None = None
    everyone: bool = False
    contactable_on: list[Channel] = []
    lifecycle_stages: list[LIFECYCLE] = []
    conditions: list[SegmentCondition] = []

    @model_validator(mode="after")
    def _one(self) -> Segment:
        if sum(getattr(self, n) not in (None, False) for n in SEGMENT_KINDS) != 1:
            raise ValueError(f"a segment is exactly one of {', '.join(SEGMENT_KINDS)}")
        return self


class Campaign(Model):
    """A mass campaign: a segment, a send time, and a pace (messages per second) so sends spread out."""

    segment: Segment
    send_at: datetime | None = None
    pace_per_second: int = Field(50, ge=1, le=10_000)


class Trigger(Model):
    """What starts the journey: exactly one of an event (`event`, `when`), a segment run every day/hour, a campaign, or
    `manual` (entered by hand only). `key` (CEL) is the business key an entry is unique on (cart id…)."""

    event: EventType | None = None
    when: Expression | None = None
    key: Expression | None = None
    delay: Duration = timedelta(0)
    segment: Segment | None = None
    every: Literal["day", "hour"] = "day"
    campaign: Campaign | None = None
    manual: bool = False

    @model_validator(mode="after")
    def _one(self) -> Trigger:
        if sum(bool(x) for x in (self.event, self.segment, self.campaign, self.manual)) != 1:
            raise ValueError("a trigger is exactly one of event, segment, campaign, manual")
        if self.delay < timedelta(0) or self.delay > timedelta(days=30):
            raise ValueError("delay must be between 0 and 30 days")
        return self


class Personalisation(Model):
    """Variables (CEL, computed at entry and kept with the journey) and the recommendation block."""

    variables: dict[str, Expression] = {}
    recommendation: Recommendation | None = None


class Goal(Model):
    """The conversion that counts for the KPIs: `event` (and `when`) within `within` of entering."""

    event: EventType
    when: Expression | None = None
    within: Duration


class ReEntry(Model):
    """once (ever), once_per_key (each business key once), always, or once per period (`period`)."""

    rule: Literal["once", "once_per_key", "once_per_period", "always"]
    period: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"rule": value}
        if isinstance(value, dict) and set(value) == {"once_per"}:
            return {"rule": "once_per_period", "period": value["once_per"]}
        return value

    @model_validator(mode="after")
    def _period(self) -> ReEntry:
        if (self.rule == "once_per_period") != (self.period is not None):
            raise ValueError("a period goes with once_per (e.g. {once_per: 30 days}) and only there")
        return self


class Example(Model):
    """Who enters, for readers, `declic scenarios dry-run` and the tests: an event (fields over defaults), the
    profile fields that matter, and how many times the event comes."""

    event: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    repeat: int = Field(1, ge=1, le=10)


class Scenario(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    name: str = Field(min_length=1, max_length=120)
    purpose: str = Field(min_length=1, max_length=300)
    kind: Kind
    category: Category = "marketing"
    plan: Literal["conquest", "conversion", "loyalty", "ambassador", "reactivation", "service"] | None = None
    priority: int = Field(ge=0, le=100)
    active: bool = True
    targeting: Targeting = Targeting()
    trigger: Trigger
    personalisation: Personalisation = Personalisation()
    interruption: list[EventMatch] = []
    goal: Goal | None = None
    re_entry: ReEntry = ReEntry(rule="once_per_key")
    holdout: int = Field(0, ge=0, le=50)
    steps: list[Step] = Field(min_length=1)
    example: Example | None = None

    @field_validator("steps")
    @classmethod
    def _ids(cls, steps: list[Step]) -> list[Step]:
        ids = step_ids(steps)
        if len(set(ids)) != len(ids):
            raise ValueError(f"step ids must be unique: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
        for step in steps:
            for target in step.targets():
                if target != EXIT and target not in ids:
                    raise ValueError(f"{target!r} is not a step id here (nor exit)")
        return steps

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        if self.kind == "event" and self.trigger.event and not timedelta(hours=1) <= self.trigger.delay <= timedelta(
                days=1):
            raise ValueError("an event scenario reacts within 1 hour to 1 day, never at once: trigger.delay")
        if (self.kind == "campaign") != (self.trigger.campaign is not None):
            raise ValueError("a campaign scenario (and only one) has trigger.campaign")
        if self.re_entry.rule == "once_per_key" and self.trigger.key is None and self.trigger.event:
            raise ValueError("re_entry once_per_key needs trigger.key (the business key, e.g. the cart id)")
        return self

    @property
    def transactional(self) -> bool:
        return self.category == "transactional"


def step_ids(steps: list[Step]) -> list[str]:
    """Each step's id: its own, else its position and kind (`3-wait`)."""
    return [getattr(step.action, "id", None) or f"{n + 1}-{step.kind}" for n, step in enumerate(steps)]
