"""The kit's polling loop: works while there is work, waits when there is none, outlives a failing step."""

from __future__ import annotations

import threading

from declic.kit.polling import PollingWorker


def test_the_loop_outlives_failures_and_stops_when_told() -> None:
    stop = threading.Event()
    calls: list[str] = []

    def step() -> int:
        calls.append("call")
        if len(calls) == 1:
            raise ConnectionError("the database is down")
        if len(calls) >= 4:
            stop.set()
        return 1 if len(calls) == 2 else 0

    thread = threading.Thread(target=PollingWorker("test", step, idle_wait=0.01, failure_wait=0.01).run, args=(stop,))
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(calls) == 4  # failed, found work (so went on at once), found none twice, then was told to stop
