"""The steps of a journey: send, wait, branch, exit. Each step has an id (firings and explanations name it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from declic.scenarios.fields import Channel, Duration, Engagement, EventMatch, Expression, LocalTime, Model

EXIT = "exit"
"""A branch or a timeout going here leaves the journey."""


class Recommendation(Model):
    """The product block of a message (recommend fills it): which strategy and how many products."""

    strategy: Literal["bought_together", "appetences", "viewed", "best_sellers", "same_category"]
    count: int = Field(3, ge=1, le=12)
    category: Expression | None = None
    """CEL giving the category to recommend around (e.g. the viewed product's)."""


class Send(Model):
    """Contact the customer: channels in order of preference; the arbiter picks the one allowed."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    channels: list[Channel] = Field(min_length=1)
    template: str = Field(min_length=1, max_length=100)
    recommendation: Recommendation | None = None
    variables: dict[str, Expression] = {}


class UntilEvent(Model):
    """Wait for an event (`event`, `when`); after `timeout` without it, go to `on_timeout` (default: the next
    step). The event goes to the next step, or to `on_event` when given."""

    event: EventMatch
    timeout: Duration
    on_event: str | None = None
    on_timeout: str | None = None


class UntilDate(Model):
    """Wait until a date the journey knows (CEL giving "YYYY-MM-DD"), shifted by `offset`, at `at` local time."""

    date: Expression
    offset: Duration = timedelta(0)
    at: LocalTime


class Wait(Model):
    """Exactly one of: a duration; until a local time of day; until an event (with a timeout); until a date."""

    id: str | None = None
    duration: Duration | None = None
    until_local_time: LocalTime | None = None
    until_event: UntilEvent | None = None
    until_date: UntilDate | None = None

    @model_validator(mode="after")
    def _one(self) -> Wait:
        given = [n for n in ("duration", "until_local_time", "until_event", "until_date") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("a wait needs exactly one of duration, until_local_time, until_event, until_date")
        return self


class Engaged(Model):
    """True when the message of send step `step` got `kind` within `within` of being sent."""

    step: str
    kind: Engagement = "opened"
    within: Duration


class Branch(Model):
    """Go to `then` or `else` (a step id, or "exit"), on exactly one of: a condition, an engagement, or a random
    split (`percent` of journeys go to `then`: an A/B test, stable per journey)."""

    id: str | None = None
    condition: Expression | None = None
    engaged: Engaged | None = None
    percent: int | None = Field(None, ge=0, le=100)
    then: str
    otherwise: str = Field(alias="else")

    @model_validator(mode="after")
    def _one(self) -> Branch:
        given = [n for n in ("condition", "engaged", "percent") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a branch needs exactly one of condition, engaged, percent")
        return self


class Exit(Model):
    id: str | None = None
    reason: str = "end of the scenario"


class Step(Model):
    """One step: exactly one of send, wait, branch, exit."""

    send: Send | None = None
    wait: Wait | None = None
    branch: Branch | None = None
    exit: Exit | None = None

    @model_validator(mode="after")
    def _one(self) -> Step:
        if sum(getattr(self, n) is not None for n in ("send", "wait", "branch", "exit")) != 1:
            raise ValueError("a step is exactly one of send, wait, branch, exit")
        return self

    @property
    def action(self) -> Send | Wait | Branch | Exit:
        return self.send or self.wait or self.branch or self.exit  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return type(self.action).__name__.lower()

    def targets(self) -> list[str]:
        """The step ids this step may jump to."""
        if self.branch:
            return [self.branch.then, self.branch.otherwise]
        if self.wait and self.wait.until_event:
            return [t for t in (self.wait.until_event.on_event, self.wait.until_event.on_timeout) if t]
        return []
