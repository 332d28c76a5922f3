"""The child-process supervisor, with real children: restarts, growing delays, a clean stop."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from declic.kit.supervisor import Backoff, Supervisor, describe_exit, exit_code

TRAPS_SIGTERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); print(flush=True);"
                 " time.sleep(60)")
IGNORES_SIGTERM = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True);"
                   " time.sleep(60)")


def python(code: str, starts: list[float] | None = None) -> Callable[[], subprocess.Popen[bytes]]:
    """A `start` callable running `python -c code`, noting the time of each start in `starts`."""

    def start() -> subprocess.Popen[bytes]:
        if starts is not None:
            starts.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)

    return start


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def supervisor():  # noqa: ANN201
    supervisor = Supervisor(Backoff(initial=0.2, maximum=0.8, stable_after=5.0), grace=2.0, poll_interval=0.02)
    yield supervisor
    supervisor.stop_all(grace=1.0)


def test_a_child_that_dies_is_started_again_and_its_death_logged_once(supervisor, caplog) -> None:
    caplog.set_level(logging.WARNING, "declic.supervisor")
    first = supervisor.add("worker", python(TRAPS_SIGTERM))
    first.kill()
    wait_until(lambda: supervisor.restarts("worker") == 1 and supervisor.child("worker") is not None)
    second = supervisor.child("worker")
    assert second is not None and second.pid != first.pid and exit_code(second) is None
    deaths = [r.getMessage() for r in caplog.records if "starting it again" in r.getMessage()]
    assert deaths == [f"worker (pid {first.pid}) was killed by SIGKILL after {deaths[0].split(' after ')[1]}"]
    second.stdout.readline()  # its SIGTERM handler is in place
    assert supervisor.stop("worker") == 0  # it trapped SIGTERM and exited cleanly


def test_deaths_in_a_row_wait_twice_as_long_each_up_to_the_maximum(supervisor) -> None:
    starts: list[float] = []
    supervisor.add("crashing", python("raise SystemExit(3)", starts))
    wait_until(lambda: len(starts) == 5)
    waits = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    # Each wait is the delay plus the child's life (an interpreter's start) and one poll: never less.
    for waited, delay in zip(waits, [0.2, 0.4, 0.8, 0.8], strict=True):
        assert delay <= waited < delay + 1.0, waits
    assert waits[2] > waits[0] + 0.3  # it grew


def test_a_child_that_stayed_up_a_while_is_restarted_after_the_initial_delay_again(caplog) -> None:
    caplog.set_level(logging.WARNING, "declic.supervisor")
    supervisor = Supervisor(Backoff(initial=0.1, maximum=5.0, stable_after=0.3), poll_interval=0.02)
    try:
        supervisor.add("steady", python("import time; time.sleep(0.5)"))
        wait_until(lambda: supervisor.restarts("steady") == 3, timeout=30)
    finally:
        supervisor.stop_all(grace=1.0)
    delays = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records if "starting it again" in r.getMessage()]
    assert delays[:3] == ["0.1 s"] * 3


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(supervisor) -> None:
    child = supervisor.add("stubborn", python(IGNORES_SIGTERM))
    child.stdout.readline()  # its SIGTERM handler is in place
    started = time.monotonic()
    assert supervisor.stop("stubborn", grace=0.5) == -signal.SIGKILL
    assert time.monotonic() - started >= 0.5
    assert supervisor.child("stubborn") is None


def test_stop_all_stops_every_child_of_either_kind_and_restarts_none(supervisor) -> None:
    spawned = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,))
    popen = supervisor.add("popen", python(TRAPS_SIGTERM))
    supervisor.add("process", lambda: (spawned.start(), spawned)[1])
    popen.stdout.readline()
    supervisor.stop_all(grace=5.0)
    assert popen.returncode == 0
    assert spawned.exitcode == -signal.SIGTERM  # time.sleep does not trap it: the default action
    time.sleep(0.1)
    assert supervisor.child("popen") is None and supervisor.child("process") is None
    with pytest.raises(RuntimeError):
        supervisor.add("late", python(TRAPS_SIGTERM))


def test_a_name_is_supervised_once_and_exits_are_described() -> None:
    supervisor = Supervisor()
    try:
        supervisor.add("one", python(TRAPS_SIGTERM))
        with pytest.raises(ValueError, match="supervised already"):
            supervisor.add("one", python(TRAPS_SIGTERM))
    finally:
        supervisor.stop_all()
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert Backoff(initial=0.5, maximum=30).delay(1) == 0.5
    assert Backoff(initial=0.5, maximum=30).delay(8) == 30
