"""De-duplication without the look-up: while clients send nothing twice, the writer takes every event as new
(no statement asking the database), and the events' key catches a repeat, which replays the transaction with
the look-up. Whatever the mode, the answers, the rows and the hand-off are those of the look-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import SystemClock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.protoconv import to_timestamp
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables
from services.ingest.validation import EventValidator
from services.ingest.writer.calls import Submission
from services.ingest.writer.transactions import DuplicateWatch, TransactionWriter


@pytest.fixture
def writer(settings: Settings):  # noqa: ANN201
    engine = make_engine(settings, "ingest")
    migrate(engine, "ingest", settings)
    transactions = TransactionWriter(UnitOfWork(session_factory(engine)), IngestSettings(), "handoff")
    transactions.duplicates = DuplicateWatch(calm=1)  # optimistic after one clean look-up
    yield transactions, engine
    engine.dispose()


def _submission(*keys: str) -> Submission:
    now = SystemClock().now()
    validator = EventValidator("FR", timedelta(minutes=5))
    events = [event_pb2.Event(
        event_id=key, source="web", event_time=to_timestamp(now - timedelta(seconds=1)),
        identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=f"{key}@example.com")],
        page_view=event_pb2.PageView(url="https://shop.example.com/"),
    ) for key in keys]
    return Submission([validator.validate(i, e, now) for i, e in enumerate(events)], now)


def _count(engine, table) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _records(engine) -> list[str]:  # noqa: ANN001
    from declic.kit.framing import unframe

    with engine.connect() as conn:
        frames = conn.execute(select(tables.outbox.c.payload).order_by(tables.outbox.c.id)).scalars().all()
    return [handoff_pb2.HandoffRecord.FromString(record).record_id for frame in frames for record in unframe(frame)]


def test_a_repeat_in_optimistic_mode_is_replayed_and_answered_duplicate(writer) -> None:
    transactions, engine = writer
    [first] = transactions.write([_submission("a", "b")])  # looked up: nothing found, the writer calms down
    assert [o.status for o in first] == ["accepted", "accepted"]
    assert transactions.duplicates.optimistic()
    [clean] = transactions.write([_submission("c")])  # optimistic: no look-up, nothing repeated
    assert [o.status for o in clean] == ["accepted"]
    assert transactions.duplicates.replays == 0
    # "b" again, beside new events and in another call of the same group: the key refuses it, the group replays.
    again, other = transactions.write([_submission("b", "d"), _submission("e")])
    assert transactions.duplicates.replays == 1
    assert [o.status for o in again] == ["duplicate", "accepted"]
    assert again[0].customer_id == first[1].customer_id  # the customer of the first copy
    assert [o.status for o in other] == ["accepted"]
    assert not transactions.duplicates.optimistic()  # repeats seen: look-ups again
    assert _count(engine, tables.events) == 5
    assert _records(engine) == [f"evt:web:{key}" for key in "abcde"]  # each handed off once, none for the repeat
    stats = {(row.status, row.count) for row in _stats(engine)}
    assert stats == {("accepted", 5), ("duplicate", 1)}


def _stats(engine):  # noqa: ANN001, ANN202
    with engine.connect() as conn:
        return conn.execute(select(tables.stats.c.status, func.sum(tables.stats.c.count).label("count"))
                            .group_by(tables.stats.c.status)).all()


def test_the_watch_looks_up_again_at_the_first_repeat_and_calms_down_after_clean_look_ups() -> None:
    watch = DuplicateWatch(calm=3)
    assert not watch.optimistic()  # a new writer looks up (clients resend after a restart)
    for _ in range(2):
        watch.looked_up(found=False)
    assert not watch.optimistic()
    watch.looked_up(found=True)  # a repeat: three clean ones needed again
    for _ in range(2):
        watch.looked_up(found=False)
    assert not watch.optimistic()
    watch.looked_up(found=False)
    assert watch.optimistic()
    watch.missed()
    assert not watch.optimistic() and watch.replays == 1
