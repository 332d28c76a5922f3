"""How ingest's gRPC process shares the interpreter lock with its writer thread (the collector's pace is the kit's:
declic.kit.interpreter)."""

from __future__ import annotations

import sys


def share_the_interpreter_lock() -> None:
    """Hand the interpreter lock over every 0.5 ms instead of 5 ms, when the writer is a thread of the gRPC
    process (DECLIC_INGEST_WRITER_PROCESS=false).

    The writer thread waits on PostgreSQL a dozen times per transaction, and each time must take the
    lock back from a thread validating the next batch: with the default interval it often waited
    milliseconds for it, with the database idle (measured: 14,000 → 17,000 events/s). With the writer in
    its own process, the default interval is better: 3 % and 8 % more events/s (medians of alternated
    rounds, benchmarks.ingest_ab), the lock handed over less often for nothing.
    """
    sys.setswitchinterval(0.0005)
