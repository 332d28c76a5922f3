"""Every public RPC of every service, fuzzed against the six services running as processes: whatever a client
sends (any field, any value, broken bytes), the answer is never INTERNAL or UNKNOWN, the service logs no ERROR,
still answers its health check, and its memory stays bounded. The RPCs and their request types come from the
descriptors, so a new RPC is fuzzed the day it is added. `make fuzz` sends 100,000 such requests; this is the CI
share."""

from __future__ import annotations

from collections import Counter

import grpc
import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.conftest import FuzzTarget
from tests.fuzz.requests import Method, public_methods, request_bytes
from tests.fuzz.target import resident_bytes, send, serving

pytestmark = [pytest.mark.fuzz, pytest.mark.xdist_group("fuzz")]

EXAMPLES_PER_RPC = 40
"""20 RPCs × 40 examples: the module (stack start-up included) within 60 s on the 2-vCPU CI machine."""
FAILURES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
MEMORY_GROWTH_BOUND = 20 * 2**20
"""RSS growth allowed to one server process over its warmed-up baseline, through the whole module. A request
is at most ~40 KB here and nothing a refused request carries may be kept, so a leak of even one request's
worth per call (800 calls: ~30 MB and more) crosses it, while the allocator's arenas and SQLAlchemy's bounded
statement cache filling with new query shapes (a few MB, measured) stay far below."""

FUZZ_SETTINGS = settings(max_examples=EXAMPLES_PER_RPC, derandomize=True, database=None, deadline=None,
                         suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("method", public_methods(), ids=lambda method: f"{method.service}.{method.name}")
def test_fuzzed_requests_never_fail_inside_the_server(method: Method, fuzz_target: FuzzTarget) -> None:
    channel = fuzz_target.channel(method.service)
    statuses: Counter[str] = Counter()
    logged_before = len(fuzz_target.log(method.service))

    @FUZZ_SETTINGS
    @given(request_bytes(method.input))
    def answered_without_internal_error(data: bytes) -> None:
        status = send(channel, method, data)
        statuses[status.name] += 1
        assert status not in FAILURES, (
            f"{method.path} answered {status.name}; the end of {method.service}'s log:\n"
            f"{fuzz_target.log(method.service)[-4_000:]}")

    answered_without_internal_error()
    assert sum(statuses.values()) >= EXAMPLES_PER_RPC / 2, statuses  # hypothesis did send requests
    assert serving(fuzz_target.stack, method.service), f"{method.service} died or stopped serving after {statuses}"
    # A failure a service maps to another status (ingest's writer answers UNAVAILABLE) still logs an ERROR.
    errors = [line for line in fuzz_target.log(method.service)[logged_before:].splitlines() if " ERROR " in line]
    assert not errors, f"{method.service} logged errors ({statuses}):\n" + "\n".join(errors[:20])
    growth = resident_bytes(fuzz_target.stack, method.service) - fuzz_target.baseline_rss[method.service]
    assert growth < MEMORY_GROWTH_BOUND, f"{method.service} grew by {growth / 2**20:.1f} MiB ({statuses})"
