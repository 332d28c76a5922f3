"""The segment loop (time-based runs and scheduled campaigns): it polls, the runner decides."""

from __future__ import annotations

import logging
import threading

from services.scenario.domain.delivery import PeerFailed
from services.scenario.engine import JourneyEngine
from services.scenario.segments import SegmentRunner

log = logging.getLogger("declic.scenario.journeys")


class SegmentWorker:
    """Every `interval` seconds, runs the time-based scenarios whose slot (day or hour) nobody ran yet."""

    def __init__(self, runner: SegmentRunner, engine: JourneyEngine, interval: float = 5.0) -> None:
        self._runner = runner
        self._engine = engine
        self._interval = interval

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with self._engine.session() as session:
                    paused = self._engine.paused(session)
                self._runner.run_due(self._engine.matcher.scenarios.values(), paused)
            except PeerFailed as failure:  # profile not up yet, or restarting: the slot is run on the next check
                log.warning("segment run: %s (%s); retried in %.0f s", failure.detail, failure.cause, self._interval)
            except Exception:  # noqa: BLE001 - profile or the database may be down for a while
                log.exception("segment run failed; retrying")
            stop.wait(self._interval)
