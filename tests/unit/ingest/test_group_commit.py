"""Group commit: concurrent calls share a transaction; one call's failure does not fail the others."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from services.ingest.validation import ValidatedEvent
from services.ingest.writer.calls import Outcome, Submission
from services.ingest.writer.group_commit import GroupWriter

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def submission(name: str, events: int = 1) -> Submission:
    return Submission([ValidatedEvent(i, None, (name, str(i))) for i in range(events)], NOW)  # type: ignore[arg-type]


def wait_for(condition) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


class SlowWrite:
    """A write that waits to be released, records the groups it gets, and fails on a "poison" call."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.writing = threading.Event()
        self.release = threading.Event()

    def __call__(self, submissions: list[Submission]) -> list[list[Outcome]]:
        self.writing.set()
        self.release.wait(5)
        names = [s.events[0].key[0] for s in submissions]
        self.groups.append(names)
        if "poison" in names:
            raise RuntimeError("bad batch")
        return [[Outcome("accepted", customer_id=s.events[0].key[0]) for _ in s.events] for s in submissions]


def test_calls_queued_during_a_write_share_the_next_one() -> None:
    write = SlowWrite()
    writer = GroupWriter(write)
    results: dict[str, list[Outcome]] = {}
    threads = [threading.Thread(target=lambda n=name: results.__setitem__(n, writer.submit(submission(n))))
               for name in ("a", "b", "c", "d")]
    threads[0].start()
    assert write.writing.wait(5)  # "a" is being written; the writer waits for the release
    for thread in threads[1:]:
        thread.start()
    wait_for(lambda: writer._queue.qsize() == 3)
    write.release.set()
    for thread in threads:
        thread.join(5)
    assert write.groups == [["a"], ["b", "c", "d"]]
    assert {name: [o.customer_id for o in outcomes] for name, outcomes in results.items()} == {
        "a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]}
    writer.close()


def test_a_failing_call_fails_alone() -> None:
    write = SlowWrite()
    writer = GroupWriter(write)
    errors: dict[str, Exception] = {}
    results: dict[str, list[Outcome]] = {}

    def call(name: str) -> None:
        try:
            results[name] = writer.submit(submission(name, 2))
        except RuntimeError as exc:
            errors[name] = exc

    threads = [threading.Thread(target=call, args=(name,)) for name in ("first", "poison", "ok")]
    threads[0].start()
    assert write.writing.wait(5)
    threads[1].start()
    wait_for(lambda: writer._queue.qsize() == 1)
    threads[2].start()
    wait_for(lambda: writer._queue.qsize() == 2)
    write.release.set()
    for thread in threads:
        thread.join(5)
    assert sorted(results) == ["first", "ok"] and list(errors) == ["poison"]
    assert write.groups == [["first"], ["poison", "ok"], ["poison"], ["ok"]]
    with pytest.raises(RuntimeError):
        writer.submit(submission("poison"))
    writer.close()
