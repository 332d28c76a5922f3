"""Every list RPC pages (AIP-158): a walk over more than a page sees every item once, in order; a page stays
far under the message limit whatever the rows hold; a bad page token is INVALID_ARGUMENT naming page_token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import typer
from typer.testing import CliRunner

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.cli.ingest_commands import register
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from services.arbiter.domain.decisions import Decision, Verdict
from services.arbiter.storage.decisions import DecisionRepository
from services.dispatch.domain.messages import DeliveryState, Message
from services.dispatch.storage.messages import MessageRepository
from services.ingest.storage import tables as ingest_tables
from services.profile.domain.consents import GRANTED, Consent
from services.profile.storage.customers import CustomerRepository
from services.scenario.domain.firings import Firing
from services.scenario.storage.firings import FiringRepository

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MIB = 1024 * 1024


def walk(call: Callable, request, items: str, id_of: Callable) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """The ids of every item, page after page, and the number of pages."""
    ids, pages = [], 0
    while True:
        response = call(request)
        ids += [id_of(item) for item in getattr(response, items)]
        pages += 1
        if not response.next_page_token:
            return ids, pages
        request.page_token = response.next_page_token


def stored(settings, service: str, add: Callable, rows: list) -> None:  # type: ignore[no-untyped-def]
    """Write rows straight to the service's tables (its server has migrated them)."""
    uow = UnitOfWork(session_factory(make_engine(settings, service)))
    with uow.begin() as session:
        for row in rows:
            add(session, row)
        session.commit()


def assert_bad_token_refused(call: Callable, request) -> None:  # type: ignore[no-untyped-def]
    request.page_token = "not-a-token"
    with pytest.raises(grpc.RpcError) as refused:
        call(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("page_token:")


def message(n: int, customer_id: str = "c-1", subject: str = "Hello") -> Message:
    # Every third message at the same instant: the id breaks the tie.
    return Message(f"m-{n:04}", customer_id, "email", "welcome", f"f-{n}", "ann@example.com", subject, "body",
                   DeliveryState.SENT, START + timedelta(minutes=n // 3))


def test_list_messages_walks_every_page_and_refuses_a_bad_token(settings, start_service) -> None:
    _, channel = start_service("dispatch")
    stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
    stored(settings, "dispatch", lambda s, m: MessageRepository(s).add_once(m),
           [message(n) for n in range(250)] + [message(n, customer_id="c-2") for n in range(250, 260)])
    ids, pages = walk(stub.ListMessages, dispatch_pb2.ListMessagesRequest(customer_id="c-1", page_size=40),
                      "messages", lambda m: m.message_id)
    assert ids == [f"m-{n:04}" for n in reversed(range(250))] and pages == 7
    everyone, _ = walk(stub.ListMessages, dispatch_pb2.ListMessagesRequest(), "messages", lambda m: m.message_id)
    assert len(everyone) == len(set(everyone)) == 260
    assert_bad_token_refused(stub.ListMessages, dispatch_pb2.ListMessagesRequest(customer_id="c-1"))


def test_list_messages_stays_under_the_message_limit_with_huge_rows(settings, start_service) -> None:
    _, channel = start_service("dispatch")
    stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
    stored(settings, "dispatch", lambda s, m: MessageRepository(s).add_once(m),
           [message(n, subject="x" * MIB) for n in range(10)])
    # Two 1 MiB messages a page (a page stops before 3 MiB): a client with the default 4 MiB limit reads them all.
    ids, pages = walk(stub.ListMessages, dispatch_pb2.ListMessagesRequest(), "messages", lambda m: m.message_id)
    assert sorted(ids) == [f"m-{n:04}" for n in range(10)] and pages == 5


def test_contact_history_walks_every_page(settings, start_service) -> None:
    _, channel = start_service("arbiter")
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    stored(settings, "arbiter", lambda s, d: DecisionRepository(s).add_once(d), [
        Decision(f"f-{n:04}", "c-1", "welcome", Verdict.ALLOW, START + timedelta(minutes=n // 3), channel="email")
        for n in range(120)
    ])
    ids, pages = walk(stub.GetContactHistory, arbiter_pb2.GetContactHistoryRequest(customer_id="c-1", page_size=50),
                      "decisions", lambda d: d.firing_id)
    assert ids == [f"f-{n:04}" for n in reversed(range(120))] and pages == 3
    assert_bad_token_refused(stub.GetContactHistory, arbiter_pb2.GetContactHistoryRequest(customer_id="c-1"))


def test_firings_and_scenarios_walk_every_page(settings, start_service) -> None:
    _, channel = start_service("scenario")
    stub = scenario_pb2_grpc.ScenarioServiceStub(channel)
    stored(settings, "scenario", lambda s, f: FiringRepository(s).add_once(f), [
        Firing(f"f-{n:04}", "welcome", "send", "c-1", 10, ("email",), "welcome", START + timedelta(minutes=n // 3))
        for n in range(130)
    ])
    ids, pages = walk(stub.ListFirings, scenario_pb2.ListFiringsRequest(customer_id="c-1", page_size=0),
                      "firings", lambda f: f.firing.firing_id)
    assert ids == [f"f-{n:04}" for n in range(130)] and pages == 2
    assert_bad_token_refused(stub.ListFirings, scenario_pb2.ListFiringsRequest(customer_id="c-1"))
    one_by_one, pages = walk(stub.ListScenarios, scenario_pb2.ListScenariosRequest(page_size=1), "scenarios",
                             lambda s: s.scenario_id)
    all_at_once = [s.scenario_id for s in stub.ListScenarios(scenario_pb2.ListScenariosRequest()).scenarios]
    assert one_by_one == sorted(all_at_once) and pages == len(one_by_one)


def test_consent_history_walks_every_page(settings, start_service) -> None:
    _, channel = start_service("profile")
    stub = profile_pb2_grpc.ProfileServiceStub(channel)

    def record(session, n: int) -> None:  # type: ignore[no-untyped-def]
        customers = CustomerRepository(session)
        customers.ensure("c-1", START, START)
        given_at = START + timedelta(minutes=n // 3)
        customers.add_history("c-1", Consent("email", GRANTED, "consent", "web", given_at), f"event web/e-{n:04}",
                              given_at)

    stored(settings, "profile", record, list(range(150)))
    origins, pages = walk(stub.ListConsentHistory,
                          profile_pb2.ListConsentHistoryRequest(customer_id="c-1", page_size=60), "records",
                          lambda r: r.origin)
    assert origins == [f"event web/e-{n:04}" for n in range(150)] and pages == 3
    assert_bad_token_refused(stub.ListConsentHistory, profile_pb2.ListConsentHistoryRequest(customer_id="c-1"))


def test_identity_audit_walks_each_kind_and_stats_walk_every_page(settings, start_service) -> None:
    running, channel = start_service("ingest")
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    at = [START + timedelta(minutes=n // 3) for n in range(130)]
    stored(settings, "ingest", lambda s, insert: s.execute(insert), [
        ingest_tables.merges.insert().values([dict(
            record_id=f"m-{n:04}", survivor_id="c-1", merged_ids=f"c-{n + 2}", cause_source="web",
            cause_event_id=f"e-{n}", merged_at=at[n]) for n in range(130)]),
        ingest_tables.refusals.insert().values([dict(
            reason="weak_identifier_shared", customer_ids="c-1 c-2", identifier_type="device_id",
            cause_source="web", cause_event_id=f"e-{n}", refused_at=at[n]) for n in range(45)]),
        ingest_tables.splits.insert().values([dict(
            record_id=f"s-{n:04}", from_customer_id="c-1", new_customer_id=f"n-{n}", identifiers="email:a@b.c",
            reason="ticket", split_at=at[n]) for n in range(10)]),
        ingest_tables.stats.insert().values([dict(
            source=f"shop-{n:03}", status="accepted", reason="", shard=0, count=n) for n in range(250)]),
    ])
    request = ingest_pb2.ListIdentityAuditRequest(page_size=50)
    merges, refusals, splits, pages = [], [], [], 0
    while True:
        answer = stub.ListIdentityAudit(request)
        merges += [m.record_id for m in answer.merges]
        refusals += [r.cause_event_id for r in answer.refusals]
        splits += [s.record_id for s in answer.splits]
        pages += 1
        if not answer.next_page_token:
            break
        request.page_token = answer.next_page_token
    assert merges == [f"m-{n:04}" for n in reversed(range(130))] and pages == 3
    assert refusals == [f"e-{n}" for n in reversed(range(45))] and splits == [f"s-{n:04}" for n in reversed(range(10))]
    assert_bad_token_refused(stub.ListIdentityAudit, ingest_pb2.ListIdentityAuditRequest())
    sources, pages = walk(stub.GetIngestStats, ingest_pb2.GetIngestStatsRequest(), "rows", lambda r: r.source)
    assert sources == [f"shop-{n:03}" for n in range(250)] and pages == 3
    # The operator's commands follow the pages.
    app = typer.Typer()
    register(app)
    address = ["--address", f"127.0.0.1:{running.port}"]
    audit = CliRunner().invoke(app, ["ingest", "audit", "--limit", "50", "--all", *address], terminal_width=200)
    assert audit.exit_code == 0 and audit.output.count(" merged ") == 130, audit.output
    one_page = CliRunner().invoke(app, ["ingest", "audit", "--limit", "50", *address], terminal_width=200)
    assert one_page.output.count(" merged ") == 50 and "--all" in one_page.output
    stats = CliRunner().invoke(app, ["ingest", "stats", *address], terminal_width=200)
    assert stats.exit_code == 0 and "shop-000" in stats.output and "shop-249" in stats.output
