"""CPU idle states, for latency figures: `--poll-idle` in the arbiter and recommend benchmarks.

On a virtual machine whose guest kernel halts an idle vCPU (the `haltpoll` cpuidle driver on this project's KVM
test machine), each wait on a socket — a PostgreSQL or Redis round trip, a gRPC hand-off between threads — ends
with a wake-up through the hypervisor: a quiet machine then answers *slower* than a busy one (measured here: a
`SELECT 1` round trip 0.105 ms by default, 0.025 ms with the CPUs polling; a single Decide in process 2.26 → 1.46 ms
wall, 1.10 → 0.69 ms CPU). Holding `/dev/cpu_dma_latency` at 0 is the kernel's PM QoS request that keeps CPUs out
of any idle state with an exit latency — what tuned's `latency-performance` profile and low-latency Kubernetes
nodes set. It is a deployment's choice, not the code's: the benchmarks report which one each figure ran with.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

PM_QOS = "/dev/cpu_dma_latency"


@contextmanager
def idle_states(poll: bool) -> Iterator[str]:
    """While open, with `poll`, CPUs stay out of idle states (the request lasts as long as the file is open).
    Yields what the figures ran with, for the table."""
    if not poll:
        yield "default idle states"
        return
    try:
        descriptor = os.open(PM_QOS, os.O_WRONLY)
    except OSError as exc:
        yield f"default idle states (polling asked, {PM_QOS}: {exc.strerror})"
        return
    try:
        os.write(descriptor, struct.pack("i", 0))
        yield f"CPUs polling when idle ({PM_QOS} = 0)"
    finally:
        os.close(descriptor)
