"""4 arbiter processes x 50 concurrent requests for one person: exactly the cap is allowed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from tests.integration.arbiter.replicas import replicas
from tests.integration.arbiter.support import decide_request

pytestmark = pytest.mark.integration

POLICY = """
caps:
  - {name: week, limit: 3, window: {rolling: 7 days}}
  - {name: sms-day, scope: channel, value: sms, limit: 1, window: {calendar: day}}
"""


def test_four_processes_fifty_requests_each_allow_exactly_the_cap(settings, tmp_path) -> None:
    policy = tmp_path / "pressure.yaml"
    policy.write_text(POLICY)
    # The first process migrates; the others find the schema ready (or wait on the migration lock).
    with replicas(settings, policy, 4) as addresses:
        channels = [grpc.insecure_channel(address) for address in addresses]
        stubs = [arbiter_pb2_grpc.ArbiterServiceStub(channel) for channel in channels]
        requests = [(stubs[i % 4], decide_request(f"f{i}", customer_id="one")) for i in range(200)]
        with ThreadPoolExecutor(50) as pool:
            decisions = list(pool.map(lambda pair: pair[0].Decide(pair[1], timeout=30).decision, requests))
        verdicts = [d.verdict for d in decisions]
        assert verdicts.count(arbiter_pb2.VERDICT_ALLOW) == 3
        assert verdicts.count(arbiter_pb2.VERDICT_SUPPRESS) == 197
        assert len({d.policy_version for d in decisions}) == 1
        # Asked again through other replicas: the same answers, no second slot.
        again = [stubs[(i + 1) % 4].Decide(decide_request(f"f{i}", customer_id="one")).decision for i in range(8)]
        assert [d.verdict for d in again] == verdicts[:8]
        for channel in channels:
            channel.close()
