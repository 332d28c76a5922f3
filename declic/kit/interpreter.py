"""How a service's processes tune the interpreter: the garbage collector's pace, and what start-up built kept out
of its passes. One place for every service (ingest and scenario had each their own copy of the first)."""

from __future__ import annotations

import gc

THRESHOLD = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Collect cycles after 50,000 net allocations instead of 700.

    A batch path (ingest's events, scenario's hand-off records) allocates tens of thousands of short-lived, acyclic
    objects that reference counting frees; the default threshold ran a collection every few events, and the older
    generations (normalisation caches, the scenario catalogue, remembered outcomes) were scanned again and again:
    a fifth of ingest's CPU, 10-20 µs per event in scenario. Cycles are still collected, in larger rounds."""
    gc.set_threshold(*THRESHOLD)


def freeze_start_up_objects() -> None:
    """Keep what start-up built (modules, tables, compiled statements, policies: most of the process's objects, for
    as long as it lives) out of the collector's generations, so that its passes stay short — a full pass over them
    paused a call for tens of milliseconds (the tail of Decide's and of profile lookups' latencies). Only in a
    service's own process: a test starting many servers would keep their cycles."""
    gc.collect()
    gc.freeze()
