"""A wake-up call between processes that a killed process cannot wedge.

`multiprocessing.Event` guards its state with a lock shared by the processes: a process SIGKILLed while
setting or waiting on it leaves that lock taken, and every other process then blocks on the event for
ever (seen: ingest's writer killed inside `wake.set()` froze the next writer and the outbox relay). Here a
wake-up is a byte in a pipe: writing never blocks (a full pipe already means "wake up") and no lock is
shared, so killing either side leaves the other working.

Same interface as `threading.Event` where the outbox relay uses it: `set`, `wait(timeout)`, `clear`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os


class PipeWake:
    """Set by any process holding it, waited on by one (the reader). Pass it to children at their start."""

    def __init__(self) -> None:
        self._reader, self._writer = multiprocessing.get_context("spawn").Pipe(duplex=False)
        self._nonblocking = False

    def set(self) -> None:
        if not self._nonblocking:  # after a process received it (its own copy of the descriptor)
            os.set_blocking(self._writer.fileno(), False)
            self._nonblocking = True
        with contextlib.suppress(BlockingIOError, BrokenPipeError):  # full: a wake-up is waiting already
            os.write(self._writer.fileno(), b"\x01")

    def wait(self, timeout: float | None = None) -> bool:
        """Whether a wake-up came within `timeout` seconds (it stays until `clear`)."""
        return bool(self._reader.poll(timeout))

    def clear(self) -> None:
        fd = self._reader.fileno()
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            while os.read(fd, 4096):
                pass

    def __getstate__(self) -> dict[str, object]:
        return {"_reader": self._reader, "_writer": self._writer, "_nonblocking": False}
