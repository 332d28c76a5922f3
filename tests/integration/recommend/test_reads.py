"""Recommend reads a customer straight on the driver: what it reads, and a connection the server dropped is
discarded, the read replayed once on a new one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from declic.kit.clock import ManualClock
from declic.kit.database import UnitOfWork, application_name, make_engine, migrate, session_factory
from declic.recommending.interactions import PURCHASE, VIEW, Interaction
from services.recommend.service import RecommendService
from services.recommend.storage.interactions import CustomerState, InteractionRepository
from services.recommend.storage.purchases import PurchaseRepository
from services.recommend.storage.reads import AutocommitReads

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_state_is_read_and_a_dropped_connection_replaced(settings) -> None:
    engine = make_engine(settings, "recommend")
    read_engine = make_engine(settings, "recommend", pre_ping=False)
    try:
        migrate(engine, "recommend", settings)
        uow = UnitOfWork(session_factory(engine))
        with uow.begin() as session:
            InteractionRepository(session).add([Interaction("ann", "bowl", PURCHASE, AT, 2.0, "o1"),
                                                Interaction("ann", "leash", VIEW, AT)])
            InteractionRepository(session).add_appetence("ann", "dogs", 1.5)
            InteractionRepository(session).merge("anne", "ann")
            PurchaseRepository(session).add_purchase("ann", "bowl", 2.0)
            session.commit()
        service = RecommendService(uow, holder=None, clock=ManualClock(AT),  # type: ignore[arg-type]
                                   reads=AutocommitReads(read_engine))
        expected = CustomerState([("bowl", PURCHASE, 2.0, "o1", AT), ("leash", VIEW, 1.0, "", AT)], {"dogs": 1.5},
                                 ["anne"], {"bowl"})
        for _ in range(7):  # past psycopg's threshold for preparing the statement
            state = service._read_state("ann")
            assert sorted(state.history) == expected.history  # (product, kind, quantity, order id, when)
            assert (state.appetences, state.merged_ids, state.bought) == (expected.appetences, ["anne"], {"bowl"})
        with engine.connect() as conn:
            killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                       " WHERE application_name = :name AND pid <> pg_backend_pid()"),
                                  {"name": application_name("recommend")}).scalar_one()
        assert killed >= 1
        assert service._read_state("ann").bought == {"bowl"}
        assert service._read_state("nobody") == CustomerState([], {}, [], set())
    finally:
        engine.dispose()
        read_engine.dispose()
