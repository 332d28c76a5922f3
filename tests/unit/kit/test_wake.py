"""Wake-ups between processes survive a SIGKILL of a process in the middle of giving them (a
multiprocessing.Event does not: its shared lock stays taken)."""

from __future__ import annotations

import multiprocessing
import time

from declic.kit.wake import PipeWake

_SPAWN = multiprocessing.get_context("spawn")


def _set_for_ever(wake: PipeWake) -> None:
    while True:
        wake.set()


def _set_once(wake: PipeWake) -> None:
    wake.set()


def test_a_wake_up_is_kept_until_cleared_and_never_blocks_the_one_giving_it() -> None:
    wake = PipeWake()
    assert not wake.wait(0.01)
    for _ in range(100_000):  # far more than a pipe holds: extra wake-ups are dropped, not waited for
        wake.set()
    assert wake.wait(0) and wake.wait(0)
    wake.clear()
    assert not wake.wait(0.01)


def test_a_process_killed_while_waking_leaves_the_others_working() -> None:
    wake = PipeWake()
    for _ in range(5):  # killed at whatever point of set() it was
        waker = _SPAWN.Process(target=_set_for_ever, args=(wake,), daemon=True)
        waker.start()
        assert wake.wait(30)
        time.sleep(0.01)
        waker.kill()
        waker.join(10)
        wake.clear()
    assert not wake.wait(0.05)
    again = _SPAWN.Process(target=_set_once, args=(wake,), daemon=True)
    again.start()
    assert wake.wait(30)  # the next process wakes the reader as before
    again.join(10)
    wake.set()  # and so does this one
    assert wake.wait(1)
