"""The writer process (production's arrangement): a real child process writing to the real database.

Killed with SIGKILL while calls wait on it, it must answer them UNAVAILABLE, come back, and have lost or
doubled nothing: what it committed before dying is answered duplicate when the client retries.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.clock import SystemClock
from declic.kit.config import Settings
from declic.kit.database import application_name, make_engine, migrate
from declic.kit.errors import Unavailable
from declic.kit.protoconv import to_timestamp
from declic.kit.supervisor import Supervisor
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables
from services.ingest.validation import EventValidator
from services.ingest.writer.calls import Outcome, Submission
from services.ingest.writer.process import WRITER, WriterProcess

pytestmark = pytest.mark.xdist_group("writer-process")


@pytest.fixture
def writer(settings: Settings):  # noqa: ANN201
    engine = make_engine(settings, "ingest")
    migrate(engine, "ingest", settings)
    supervisor = Supervisor()
    process = WriterProcess(settings, IngestSettings(), f"{settings.stream_prefix}:handoff", supervisor)
    yield process, supervisor, engine
    process.close()
    supervisor.stop_all()
    engine.dispose()


def _submission(prefix: str, count: int) -> Submission:
    clock = SystemClock()
    now = clock.now()
    validator = EventValidator("FR", timedelta(minutes=5))
    events = [event_pb2.Event(
        event_id=f"{prefix}{n}", source="web", event_time=to_timestamp(now - timedelta(seconds=n)),
        identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=f"p{n % 7}@example.com")],
        page_view=event_pb2.PageView(url="https://shop.example.com/"),
    ) for n in range(count)]
    return Submission([validator.validate(i, e, now) for i, e in enumerate(events)], now)


def _retry(process: WriterProcess, submission: Submission) -> list[Outcome]:
    """What a client does: retry while the writer says UNAVAILABLE."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return process.submit(submission)
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stored(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.events)).scalar_one())


def test_batches_are_written_by_the_child_and_answered_per_event(writer) -> None:
    process, _, engine = writer
    outcomes = process.submit(_submission("a", 20))
    assert [o.status for o in outcomes] == ["accepted"] * 20
    assert len({o.customer_id for o in outcomes}) == 7  # one customer per e-mail
    assert [o.status for o in process.submit(_submission("a", 20))] == ["duplicate"] * 20
    assert _stored(engine) == 20


def test_a_killed_writer_loses_nothing_and_doubles_nothing(writer) -> None:
    process, supervisor, engine = writer
    batches = [_submission(f"k{n}-", 50) for n in range(6)]
    answers: dict[int, list[Outcome] | Exception] = {}

    def send(n: int) -> None:
        try:
            answers[n] = process.submit(batches[n])
        except Unavailable as exc:
            answers[n] = exc

    process.submit(_submission("warm-", 1))  # the child is up and connected
    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while not answers and time.monotonic() < deadline:  # once the first batch is acknowledged ...
        time.sleep(0.001)
    killed = supervisor.child(WRITER)
    killed.kill()  # ... SIGKILL, with the others written, in flight or queued
    for thread in threads:
        thread.join(30)
    assert len(answers) == len(batches)  # every call answered, none left hanging
    # The clients retry whatever was not acknowledged, and (being careful) even what was.
    for n, batch in enumerate(batches):
        again = _retry(process, batch)
        first = answers[n]
        if isinstance(first, Exception):
            assert {o.status for o in again} <= {"accepted", "duplicate"}
        else:
            assert [o.status for o in first] == ["accepted"] * 50
            assert [o.status for o in again] == ["duplicate"] * 50
    assert _stored(engine) == 301  # each event stored once
    assert supervisor.child(WRITER).pid != killed.pid and process.restarts == 1  # a new writer took over


def _die_at_start(*args: object) -> None:
    """A writer that cannot start (a bad release, the database refusing it ...)."""
    raise SystemExit(3)


def test_a_writer_that_keeps_dying_is_restarted_with_growing_delays_and_calls_get_unavailable(settings) -> None:
    supervisor = Supervisor()
    process = WriterProcess(settings, IngestSettings(), f"{settings.stream_prefix}:handoff", supervisor,
                            target=_die_at_start)
    try:
        started = time.monotonic()
        while process.restarts < 2 and time.monotonic() - started < 60:
            with pytest.raises(Unavailable):
                process.submit(_submission("d", 1))
            time.sleep(0.05)
        # Two restarts, after waiting 0.5 s then 1 s (on top of each start): not a tight loop.
        assert process.restarts == 2
        assert time.monotonic() - started >= 1.5
    finally:
        process.close()
        supervisor.stop_all()


def test_a_broken_database_connection_is_replaced_and_the_batch_replayed(writer) -> None:
    """The writer does not check its connection before each transaction (a round trip each): one the server
    dropped (restart, failover, an operator's pg_terminate_backend) fails the next transaction, which is
    replayed on a new connection: the caller sees its events accepted, stored once."""
    process, supervisor, engine = writer
    assert [o.status for o in process.submit(_submission("before-", 10))] == ["accepted"] * 10
    writer_connections = application_name("ingest", supervisor.child(WRITER).pid)
    with engine.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                   " WHERE application_name = :name"), {"name": writer_connections}).scalar_one()
    assert killed >= 1, "the writer holds a connection to PostgreSQL"
    assert [o.status for o in process.submit(_submission("after-", 10))] == ["accepted"] * 10
    assert [o.status for o in process.submit(_submission("after-", 10))] == ["duplicate"] * 10
    assert _stored(engine) == 20
