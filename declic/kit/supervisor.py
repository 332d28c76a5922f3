"""Child processes kept running: started by name, restarted with backoff when they die, stopped cleanly.

One supervisor for every child process: ingest's writer and relay (`multiprocessing`), the six services of
`declic run` (`subprocess`). A child is whatever its `start` callable returns, already started: a
`subprocess.Popen` or a `multiprocessing.Process`. The supervisor only watches, signals and restarts it;
what the child needs (pipes, arguments, a log file) the callable makes afresh at each start.

A child that dies without being asked to is logged once (its name, pid, exit code or signal) and started
again after `Backoff.initial` seconds, twice as long for each death in a row, `Backoff.maximum` at most; one
that stayed up `Backoff.stable_after` seconds was healthy, and its next death waits `initial` again.

Stopping is SIGTERM (the child's cue to finish its work and exit), `grace` seconds, then SIGKILL. The child
side: `stop_requested()` turns SIGTERM into an event, `wait_for_stop()` also ends when the parent is gone.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.process
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("declic.supervisor")

Child = subprocess.Popen[Any] | multiprocessing.process.BaseProcess
"""A started child process of either kind."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait before starting again a child that died."""

    initial: float = 0.5
    """Seconds before the restart that follows a death after a healthy run."""
    maximum: float = 30.0
    """The longest wait, however many deaths in a row."""
    stable_after: float = 10.0
    """A child up this many seconds was healthy: its death starts the count of deaths in a row again."""

    def delay(self, deaths_in_a_row: int) -> float:
        """The wait before the restart that follows the `deaths_in_a_row`-th death in a row (1 for the first)."""
        return min(self.initial * 2 ** (deaths_in_a_row - 1), self.maximum)


def exit_code(child: Child) -> int | None:
    """The child's exit code (minus the signal number that killed it), None while it runs."""
    return child.poll() if isinstance(child, subprocess.Popen) else child.exitcode


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class _Supervised:
    name: str
    start: Callable[[], Child]
    child: Child | None = None
    started_at: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float = 0.0
    restarts: int = 0


class Supervisor:
    """Keeps named child processes running until they are stopped; thread-safe.

    `add` starts a child at once (in the caller's thread: a failure to start raises there); a thread of the
    supervisor then polls the children every `poll_interval` seconds and restarts the dead ones."""

    def __init__(self, backoff: Backoff = Backoff(), grace: float = 10.0, poll_interval: float = 0.1) -> None:
        """`grace`: seconds a child has to exit after SIGTERM before SIGKILL, unless `stop` is given another."""
        self.backoff = backoff
        self.grace = grace
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._supervised: dict[str, _Supervised] = {}
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None

    def add(self, name: str, start: Callable[[], Child]) -> Child:
        """Start a child with `start()` and keep it running under `name` (unique); returns the child."""
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"supervisor stopped: cannot start {name}")
            if name in self._supervised:
                raise ValueError(f"a child named {name} is supervised already")
            entry = _Supervised(name, start)
            self._launch(entry)
            self._supervised[name] = entry
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
                self._watcher.start()
            return entry.child  # type: ignore[return-value] # just launched

    def child(self, name: str) -> Child | None:
        """The running child named `name`; None while it waits for its restart, or if unknown."""
        with self._lock:
            entry = self._supervised.get(name)
            return entry.child if entry is not None else None

    def restarts(self, name: str) -> int:
        """How many times the child named `name` was started again after dying."""
        with self._lock:
            entry = self._supervised.get(name)
            return entry.restarts if entry is not None else 0

    def stop(self, name: str, grace: float | None = None) -> int | None:
        """Stop the child named `name` (SIGTERM, `grace` seconds, SIGKILL) and forget it; its exit code."""
        with self._lock:
            entry = self._supervised.pop(name, None)
        if entry is None or entry.child is None:
            return None
        terminate([entry.child], self.grace if grace is None else grace, [name])
        return exit_code(entry.child)

    def stop_all(self, grace: float | None = None) -> None:
        """Stop every child at once (SIGTERM to all, one shared `grace`, SIGKILL to the late) and the watching."""
        with self._lock:
            self._closed.set()
            entries, self._supervised = list(self._supervised.values()), {}
        running = [entry for entry in entries if entry.child is not None]
        terminate([e.child for e in running], self.grace if grace is None else grace,  # type: ignore[misc]
                  [e.name for e in running])
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=5)

    def _watch(self) -> None:
        while not self._closed.wait(self._poll_interval):
            with self._lock:
                for entry in self._supervised.values():
                    self._check(entry, time.monotonic())

    def _check(self, entry: _Supervised, now: float) -> None:
        """Note a death (logged once) and schedule the restart; restart once its time has come."""
        if entry.child is None:
            if now >= entry.restart_at:
                entry.restarts += 1
                self._launch(entry)
            return
        code = exit_code(entry.child)
        if code is None:
            return
        lived = now - entry.started_at
        entry.deaths_in_a_row = 1 if lived >= self.backoff.stable_after else entry.deaths_in_a_row + 1
        delay = self.backoff.delay(entry.deaths_in_a_row)
        log.warning("%s (pid %s) %s after %.1f s; starting it again in %.1f s",
                    entry.name, entry.child.pid, describe_exit(code), lived, delay)
        entry.child = None
        entry.restart_at = now + delay

    def _launch(self, entry: _Supervised) -> None:
        """Start the entry's child; a start that fails counts as a death (called with the lock held)."""
        entry.started_at = time.monotonic()
        try:
            entry.child = entry.start()
        except Exception:
            if not entry.restarts:  # the first start: the caller of `add` hears of it
                raise
            entry.deaths_in_a_row += 1
            delay = self.backoff.delay(entry.deaths_in_a_row)
            log.exception("%s could not be started; trying again in %.1f s", entry.name, delay)
            entry.restart_at = entry.started_at + delay


def terminate(children: Iterable[Child], grace: float, names: Iterable[str] = ()) -> None:
    """SIGTERM to every child still running, up to `grace` seconds for all to exit, then SIGKILL the late."""
    children, names = list(children), list(names) or [str(getattr(c, "pid", "?")) for c in children]
    for child in children:
        if exit_code(child) is None:
            child.terminate()
    deadline = time.monotonic() + grace
    while any(exit_code(child) is None for child in children) and time.monotonic() < deadline:
        time.sleep(0.02)
    for name, child in zip(names, children, strict=True):
        if exit_code(child) is None:
            log.warning("%s (pid %s) still running %.1f s after SIGTERM; killing it", name, child.pid, grace)
            child.kill()
    deadline = time.monotonic() + 5.0
    while any(exit_code(child) is None for child in children) and time.monotonic() < deadline:
        time.sleep(0.01)  # reaped: no zombie left behind


# --- the child's side ---------------------------------------------------------------------------------------


def stop_requested() -> threading.Event:
    """In a child (main thread): an event set when the supervisor asks it to stop (SIGTERM).

    SIGINT is ignored: a Ctrl-C in a terminal reaches the whole process group, and the parent stops its
    children itself, in order."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return stop


def wait_for_stop(stop: threading.Event, parent: int, interval: float = 1.0) -> None:
    """Block until `stop` is set or the process `parent` is gone (killed without stopping its children)."""
    while not stop.wait(interval):
        if os.getppid() != parent:
            return


def name_this_process(name: str) -> None:
    """Show `name` (15 characters at most) for this process in ps, top and psutil (Linux; elsewhere nothing)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name[:15])
