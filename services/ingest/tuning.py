"""How ingest's processes tune the interpreter for the batch path (the gRPC process and its writer and relay)."""

from __future__ import annotations

import gc
import sys


def tune_garbage_collector() -> None:
    """Collect cycles after 50,000 net allocations instead of 700.

    Each batch allocates tens of thousands of short-lived, acyclic objects (freed by reference counting),
    so the default threshold ran a collection every few events, and the older generations, which hold the
    normalisation caches, were scanned again and again: a fifth of the process's CPU. Cycles are still
    collected, just in larger rounds.
    """
    gc.set_threshold(50_000, 20, 100)


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
