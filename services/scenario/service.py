"""Scenario's service layer for firings: a customer's firings, and their delivery (profile → arbiter → dispatch).

The catalogue and journeys are `catalogue_service.py`'s; the journey engine is `engine.py`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.telemetry import continued_span
from services.scenario.domain.delivery import (
    ArbiterDecision,
    Contact,
    PeerFailed,
    message_variables,
    profile_missing,
    retry_delay,
    retry_later,
    sent,
    settle_by_verdict,
)
from services.scenario.domain.firings import Firing, FiringState, Settlement
from services.scenario.storage.firings import FiringRepository

log = logging.getLogger("declic.scenario.delivery")

# How long a claimed firing stays hidden from other replicas' delivery loops.
LEASE = timedelta(seconds=30)


class Peers(Protocol):
    """The calls a delivery makes (`clients.PeerClients`); each raises `PeerFailed` when the peer fails."""

    def contact(self, customer_id: str) -> Contact | None: ...

    def decide(self, firing: Firing, variables: dict[str, str], contact: Contact) -> ArbiterDecision: ...

    def send(self, firing: Firing, variables: dict[str, str], channel: str, address: str) -> str: ...

    def release(self, firing_id: str) -> bool: ...


class ScenarioService:
    def __init__(self, uow: UnitOfWork, clock: Clock, peers: Peers) -> None:
        self._uow = uow
        self._clock = clock
        self._peers = peers

    def firings_of(self, customer_id: str, limit: int | None = None,
                   after: tuple[datetime, str] | None = None) -> list[Firing]:
        """The customer's firings (`limit` of them when given) and where each stands, oldest first, after the
        (fired_at, firing_id) `after`."""
        with self._uow.begin() as session:
            return FiringRepository(session).for_customer(customer_id, limit, after)

    def deliver_due(self, limit: int = 20) -> int:
        """Advance up to `limit` due firings one attempt each; return how many were handled.

        Every step is idempotent (the arbiter and dispatch key on the firing id), so a firing retried after
        a crash or an outage is never sent twice.
        """
        with self._uow.begin() as session:
            due = FiringRepository(session).claim_due(self._clock.now(), LEASE, limit)
            session.commit()
        for firing in due:
            with continued_span("firing.deliver", firing.trace_context, **{"declic.scenario_id": firing.scenario_id}):
                settlement = self._attempt(firing)
            with self._uow.begin() as session:
                FiringRepository(session).settle(firing.firing_id, settlement)
                session.commit()
        return len(due)

    def _attempt(self, firing: Firing) -> Settlement:
        if firing.state is FiringState.WITHDRAWING:
            return self._withdraw(firing)
        try:
            contact = self._peers.contact(firing.customer_id)
            if contact is None:
                return profile_missing(firing, self._clock.now())
            variables = message_variables(firing, contact)
            decision = self._peers.decide(firing, variables, contact)
            settled = settle_by_verdict(decision, firing, self._clock.now())
            if settled is not None:
                return settled
            message_id = self._peers.send(firing, variables, decision.channel, contact.addresses[decision.channel])
            return sent(message_id, decision.channel)
        except PeerFailed as failure:
            if not failure.transient:
                log.error("firing %s: %s (%s)", firing.firing_id, failure.detail, failure.cause)
            return retry_later(firing, failure.detail, self._clock.now())

    def _withdraw(self, firing: Firing) -> Settlement:
        """Give the arbiter back the slot of a firing that will not be sent, then suppress it."""
        try:
            released = self._peers.release(firing.firing_id)
        except PeerFailed as failure:
            if not failure.transient:
                log.error("firing %s: slot not given back: %s (%s)", firing.firing_id, failure.detail, failure.cause)
            return Settlement(FiringState.WITHDRAWING, firing.detail,
                              self._clock.now() + retry_delay(firing.attempts))
        if not released:
            return Settlement(FiringState.SENT, f"sent before it was stopped ({firing.detail})")
        return Settlement(FiringState.SUPPRESSED, firing.detail)
