"""A firing stopped before it was sent gives the arbiter back the slot it held: a real arbiter over real gRPC (an
in-process server) holds the firing's slot in its holding window; the firing's journey is then interrupted; the
delivery loop releases the slot and suppresses the firing. One never put to the arbiter is suppressed at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from services.scenario.clients import PeerClients
from services.scenario.domain.delivery import ArbiterDecision, Contact
from services.scenario.domain.firings import Firing, FiringState, Settlement, firing_id_for
from services.scenario.service import ScenarioService
from services.scenario.storage.firings import FiringRepository
from tests.integration.arbiter.support import capped

CONTACT = Contact(first_name="Ann", timezone="Europe/Paris", addresses={"email": "ann@example.com"})


class ArbiterOnly:
    """The real arbiter; profile's answer given (the contact), no dispatch (nothing here may be sent)."""

    def __init__(self, clients: PeerClients) -> None:
        self._clients = clients

    def contact(self, customer_id: str) -> Contact | None:
        return CONTACT

    def decide(self, firing: Firing, variables: dict[str, str], contact: Contact) -> ArbiterDecision:
        return self._clients.decide(firing, variables, contact)

    def send(self, firing: Firing, variables: dict[str, str], channel: str, address: str) -> str:
        raise AssertionError("nothing is sent in this test")

    def release(self, firing_id: str) -> bool:
        return self._clients.release(firing_id)


def test_an_interrupted_firing_gives_its_held_slot_back(start_service, settings) -> None:
    _, channel = start_service("arbiter", policy=capped(3, hold=timedelta(minutes=2)), intake=False)
    arbiter = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    engine = make_engine(settings, "scenario")
    migrate(engine, "scenario", settings)
    uow, clock = UnitOfWork(session_factory(engine)), ManualClock(datetime.now(UTC))
    asked, never = (Firing(firing_id_for("cart", step, "c-withdraw"), "cart", step, "c-withdraw", 50, ("email",),
                           "cart", clock.now(), cause_event_id=f"web:{step}", next_attempt_at=clock.now())
                    for step in ("reminder", "later"))
    never.next_attempt_at = clock.now() + timedelta(days=1)  # not due: the arbiter is never asked about it
    with uow.begin() as session:
        FiringRepository(session).add_once(asked)
        FiringRepository(session).add_once(never)
        session.commit()
    service = ScenarioService(uow, clock, ArbiterOnly(PeerClients({"profile": channel, "arbiter": channel,
                                                                   "dispatch": channel}, timeout=5.0)))

    assert service.deliver_due() == 1
    held = arbiter.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=asked.firing_id)).decision
    assert (held.verdict, held.slot) == (arbiter_pb2.VERDICT_DEFER, arbiter_pb2.SLOT_STATE_HELD)
    assert _used(arbiter) == 1  # the held slot counts against the cap

    # The journey is interrupted (an order came): what steering does to its messages not sent yet.
    with uow.begin() as session:
        FiringRepository(session).settle_open([asked.firing_id, never.firing_id],
                                              Settlement(FiringState.SUPPRESSED, "interrupted: order placed"))
        session.commit()
    states = {f.firing_id: f.state for f in service.firings_of("c-withdraw")}
    assert states == {asked.firing_id: FiringState.WITHDRAWING, never.firing_id: FiringState.SUPPRESSED}

    assert service.deliver_due() == 1  # the withdrawal, due at once
    released = arbiter.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=asked.firing_id)).decision
    assert released.slot == arbiter_pb2.SLOT_STATE_RELEASED
    done = {f.firing_id: (f.state, f.detail) for f in service.firings_of("c-withdraw")}
    assert done[asked.firing_id] == (FiringState.SUPPRESSED, "interrupted: order placed")
    assert _used(arbiter) == 0
    engine.dispose()


def _used(arbiter: arbiter_pb2_grpc.ArbiterServiceStub) -> int:
    counters = arbiter.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-withdraw")).counters
    return max(counter.used for counter in counters)
