"""Time-based and campaign entries: a segment of profiles (profile's QuerySegment stream) entered in bulk.

Each time-based scenario runs once per slot (a day, or an hour for those that follow each customer's own
day, like birthdays); a slot is claimed in the database, so one replica runs it, and a run cut short is taken
over when its lease ends. Entries are keyed, so a slot run twice enters nobody twice.

A campaign whose file names a `send_at` runs by itself: its segment is entered from `CAMPAIGN_LEAD` before that
time (the first message is due at `send_at`, the others at the campaign's pace), once, as the run
`campaign:<scenario id>@<send_at>`. One found more than `CAMPAIGN_GRACE` late (the stack was down at its time)
is not started on its own — a mass mailing hours late may be wrong (a sale already over); `TriggerCampaign` sends
it — but a run started in time and cut short is finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Protocol

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.scenarios.entry import business_key
from declic.scenarios.schema import Scenario, Segment
from services.scenario.domain.journeys import entry_key_for, new_journey
from services.scenario.storage.controls import Controls
from services.scenario.storage.journeys import JourneyRepository

RUN_LEASE = timedelta(minutes=10)
CAMPAIGN_LEAD = timedelta(minutes=15)
CAMPAIGN_GRACE = timedelta(hours=1)

log = logging.getLogger("declic.scenario.segments")


class SegmentPeer(Protocol):
    def segment(self, segment: Segment, as_of: datetime, batch_size: int = 5000) -> Iterator[list[str]]: ...


def slot_of(scenario: Scenario, now: datetime) -> str:
    """The run a time-based scenario owes at `now`: its UTC day, or its UTC hour."""
    return now.strftime("%Y-%m-%dT%H" if scenario.trigger.every == "hour" else "%Y-%m-%d")


class SegmentRunner:
    def __init__(self, uow: UnitOfWork, clock: Clock, profiles: SegmentPeer, batch: int = 5000) -> None:
        self._uow = uow
        self._clock = clock
        self._profiles = profiles
        self._batch = batch
        self._done: dict[str, str] = {}
        """Scenario id → the last slot this process saw finished (saves a database round trip per check)."""

    def run_due(self, scenarios: Iterable[Scenario], paused: frozenset[str] = frozenset()) -> int:
        """Run every time-based scenario whose current slot nobody ran yet; how many customers entered."""
        now = self._clock.now()
        entered = 0
        for scenario in scenarios:
            if not scenario.active or scenario.id in paused:
                continue
            if scenario.trigger.campaign is not None:
                entered += self._scheduled_campaign(scenario, now)
                continue
            if scenario.trigger.segment is None:
                continue
            slot = slot_of(scenario, now)
            if self._done.get(scenario.id) == slot:
                continue
            entered += self.run(scenario, scenario.trigger.segment, slot, now)
            self._done[scenario.id] = slot  # run here, or by another replica (which we would not retake now)
        return entered

    def _scheduled_campaign(self, scenario: Scenario, now: datetime) -> int:
        """Run a campaign whose send time has come (see the module's text); how many customers entered."""
        campaign = scenario.trigger.campaign
        if campaign is None or campaign.send_at is None or now < campaign.send_at - CAMPAIGN_LEAD:
            return 0
        slot = f"campaign:{scenario.id}@{campaign.send_at.isoformat()}"
        if self._done.get(scenario.id) == slot:
            return 0
        self._done[scenario.id] = slot
        if now > campaign.send_at + CAMPAIGN_GRACE and not self._started(scenario.id, slot):
            log.warning("campaign %s was due at %s, over %s ago: not sent by itself (TriggerCampaign sends it)",
                        scenario.id, campaign.send_at.isoformat(), CAMPAIGN_GRACE)
            return 0
        try:
            return self.run(scenario, campaign.segment, slot, now, campaign.send_at, campaign.pace_per_second)
        except BaseException:
            self._done.pop(scenario.id, None)  # (tried again at the next check)
            raise

    def _started(self, scenario_id: str, slot: str) -> bool:
        with self._uow.begin() as session:
            return Controls(session).run_started(scenario_id, slot)

    def run(self, scenario: Scenario, segment: Segment, slot: str, now: datetime, send_at: datetime | None = None,
            pace_per_second: int = 0) -> int:
        """Enter the segment's customers into `scenario` for `slot` (paced from `send_at` when given); 0 when
        another replica has or had this slot."""
        with self._uow.begin() as session:
            claimed = Controls(session).claim_run(scenario.id, slot, now, RUN_LEASE)
            session.commit()
        if not claimed:
            return 0
        key = business_key(scenario, {}, now)
        if not key and scenario.re_entry.rule != "once_per_period":
            key = slot  # once per run of the segment
        entry_key = entry_key_for(scenario, key, now)
        template = new_journey(scenario, "", entry_key, now, {"type": "segment", "slot": slot})
        first_due = send_at if send_at is not None else template.due_at or now
        apart = 1 / pace_per_second if send_at is not None and pace_per_second else 0.0
        entered = position = 0
        try:
            for customer_ids in self._profiles.segment(segment, now, self._batch):
                with self._uow.begin() as session:
                    entered += JourneyRepository(session).enter_segment(
                        template, customer_ids, first_due + timedelta(seconds=position * apart), apart)
                    session.commit()
                position += len(customer_ids)
        except Exception:
            with self._uow.begin() as session:  # let the next check (here or on another replica) run it again
                Controls(session).release_run(scenario.id, slot, self._clock.now())
                session.commit()
            raise
        with self._uow.begin() as session:
            Controls(session).finish_run(scenario.id, slot, entered, self._clock.now())
            session.commit()
        return entered
