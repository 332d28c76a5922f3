"""Arbiter's hand-off consumer: cool-offs from what people did, merges and erasures.

- A complaint or an unsubscribe on a message, and a return, start the policy's cool-off
  (an unsubscribe closes only its channel).
- Consents given or withdrawn (a sign-up or update; an unsubscribe withdraws its channel) are kept
  per channel, the newest winning: a withdrawn channel stays closed to marketing.
- A merge moves the merged people's decisions, lists and cool-offs to the survivor; an erasure
  removes the person's history, lists and cool-offs (nothing here must be kept by law).
In both cases the people's Redis mirrors are dropped *after* the transaction commits, so the next
decision rebuilds the survivor's counters from PostgreSQL — the merged counters added together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from declic.kit.protoconv import channel_name, to_datetime
from services.arbiter.policy_file import PolicySource
from services.arbiter.storage.counters import PressureCounters
from services.arbiter.storage.decisions import DecisionRepository
from services.arbiter.storage.people import PeopleRepository
from services.arbiter.storage.tables import inbox

_ENGAGEMENT_COOL_OFFS = {
    event_pb2.ENGAGEMENT_KIND_COMPLAINED: "complaint",
    event_pb2.ENGAGEMENT_KIND_UNSUBSCRIBED: "unsubscribe",
}


class ArbiterIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: PolicySource, counters: PressureCounters) -> None:
        super().__init__(uow, inbox, clock)
        self._policy = policy
        self._counters = counters
        self._forget: set[str] = set()

    def handle_batch(self, payloads: Sequence[bytes]) -> None:
        self._forget.clear()
        super().handle_batch(payloads)
        if self._forget:
            self._counters.forget(*sorted(self._forget))

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        event = accepted.event
        happened = to_datetime(event.event_time) if event.HasField("event_time") else now
        if accepted.customer_id:
            self._record_consents(session, accepted.customer_id, event, happened)
        kind, channel = "", ""
        if event.HasField("message_engagement"):
            engagement = event.message_engagement
            kind = _ENGAGEMENT_COOL_OFFS.get(engagement.kind, "")
            if kind == "unsubscribe" and engagement.channel:
                channel = channel_name(engagement.channel)
        elif event.HasField("order") and event.order.kind == event_pb2.ORDER_KIND_RETURN:
            kind = "return"
        if not kind or not accepted.customer_id:
            return
        duration = getattr(self._policy.current().cool_off, "return_" if kind == "return" else kind)
        if not duration:
            return
        PeopleRepository(session).cool_off(accepted.customer_id, kind, channel, happened + duration)

    @staticmethod
    def _record_consents(session: Session, customer_id: str, event: event_pb2.Event, happened: datetime) -> None:
        """Consents given or withdrawn on a sign-up or update, and an unsubscribe (a withdrawal on its channel)."""
        people = PeopleRepository(session)
        if event.HasField("identify"):
            for consent in event.identify.consents:
                if consent.channel and consent.state:
                    at = to_datetime(consent.time) if consent.HasField("time") else happened
                    people.record_consent(customer_id, channel_name(consent.channel),
                                          consent.state == identity_pb2.CONSENT_STATE_GRANTED, at)
        elif event.HasField("message_engagement"):
            engagement = event.message_engagement
            if engagement.kind == event_pb2.ENGAGEMENT_KIND_UNSUBSCRIBED and engagement.channel:
                people.record_consent(customer_id, channel_name(engagement.channel), False, happened)

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        others = [cid for cid in merged.merged_ids if cid != merged.survivor_id]
        DecisionRepository(session).move(others, merged.survivor_id)
        PeopleRepository(session).move(others, merged.survivor_id)
        self._forget.update([merged.survivor_id, *others])

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        DecisionRepository(session).erase(erased.customer_id)
        PeopleRepository(session).erase(erased.customer_id)
        self._forget.add(erased.customer_id)
