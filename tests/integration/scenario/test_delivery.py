"""Scenario's delivery on the real database: a deferred firing is stored as deferred, and delivered when due.

The peers are a stand-in: no arbiter of the foundation defers yet, so the
verdict is scripted here (the real peers are exercised by the e2e tests).
"""

from __future__ import annotations

from datetime import timedelta

from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from services.scenario.domain.delivery import ArbiterDecision, Contact, PeerFailed, Verdict
from services.scenario.domain.firings import Firing, FiringState, firing_id_for
from services.scenario.service import ScenarioService
from services.scenario.storage.firings import FiringRepository

CONTACT = Contact(first_name="Ann", timezone="Europe/Paris", addresses={"sms": "+33600000000"})


class ScriptedPeers:
    """Answers the delivery's calls from a list of arbiter decisions, one per call, and records the sends."""

    def __init__(self, decisions: list[ArbiterDecision | PeerFailed]) -> None:
        self._decisions = decisions
        self.sent: list[tuple[str, dict[str, str], str, str]] = []

    def contact(self, customer_id: str) -> Contact | None:
        return CONTACT

    def decide(self, firing: Firing, variables: dict[str, str], contact: Contact) -> ArbiterDecision:
        decision = self._decisions.pop(0)
        if isinstance(decision, PeerFailed):
            raise decision
        return decision

    def send(self, firing: Firing, variables: dict[str, str], channel: str, address: str) -> str:
        self.sent.append((firing.firing_id, variables, channel, address))
        return "m1"


def test_deferred_then_failed_then_sent(settings) -> None:
    engine = make_engine(settings, "scenario")
    migrate(engine, "scenario", settings)
    uow, clock = UnitOfWork(session_factory(engine)), ManualClock()
    firing = Firing(firing_id_for("welcome", "welcome-offer", "c1"), "welcome", "welcome-offer", "c1", 50,
                    ("email", "sms"), "welcome", clock.now(), cause_event_id="web:e1", next_attempt_at=clock.now())
    with uow.begin() as session:
        FiringRepository(session).add_once(firing)
        session.commit()
    in_an_hour = clock.now() + timedelta(hours=1)
    peers = ScriptedPeers([
        ArbiterDecision(Verdict.DEFER, "quiet hours", defer_until=in_an_hour),
        PeerFailed("arbiter: UNAVAILABLE", transient=True),
        ArbiterDecision(Verdict.ALLOW, "allowed on sms", channel="sms"),
    ])
    service = ScenarioService(uow, clock, peers)

    assert service.deliver_due() == 1
    [deferred] = service.firings_of("c1")
    assert (deferred.state, deferred.detail, deferred.next_attempt_at) == (
        FiringState.DEFERRED, "quiet hours", in_an_hour
    )
    assert service.deliver_due() == 0  # not due before the arbiter's time

    clock.advance(timedelta(hours=1))
    assert service.deliver_due() == 1
    [retrying] = service.firings_of("c1")
    assert (retrying.state, retrying.detail) == (FiringState.PENDING, "arbiter: UNAVAILABLE")

    clock.advance(timedelta(minutes=1))
    assert service.deliver_due() == 1
    [done] = service.firings_of("c1")
    assert (done.state, done.detail, done.next_attempt_at) == (FiringState.SENT, "message m1 on sms", None)
    assert peers.sent == [(firing.firing_id, {"first_name": "Ann"}, "sms", "+33600000000")]
    engine.dispose()
