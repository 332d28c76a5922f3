"""Fail closed and recover: Redis or PostgreSQL down -> UNAVAILABLE and nothing allowed; Redis back empty -> the
counters are rebuilt from PostgreSQL, with no message over the cap."""

from __future__ import annotations

import shutil

import grpc
import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.redis_client import start_embedded_redis
from declic.kit.server import start
from services.arbiter.main import bootstrap
from tests.conftest import free_port
from tests.integration.arbiter.proxy import proxied_database_url
from tests.integration.arbiter.support import capped, decide_request

pytestmark = pytest.mark.integration


def _serve(settings, clock):
    running = start(bootstrap(settings, clock=clock, policy=capped(3), intake=False), settings, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    return running, channel, arbiter_pb2_grpc.ArbiterServiceStub(channel)


def _unavailable(stub, firing_id: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.Decide(decide_request(firing_id), timeout=20)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()


def test_redis_down_then_back_empty_rebuilds_from_postgresql(settings, tmp_path) -> None:
    """Our own redis-server (never the machine's): stopped, its data deleted, started again empty."""
    port = free_port()
    redis_process = start_embedded_redis(tmp_path / "redis-a", port)
    ours = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    running, channel, stub = _serve(ours, ManualClock())
    try:
        verdicts = [stub.Decide(decide_request(f"f{i}")).decision.verdict for i in range(2)]
        assert verdicts == [arbiter_pb2.VERDICT_ALLOW] * 2
        redis_process.terminate()
        redis_process.wait(timeout=10)
        shutil.rmtree(tmp_path / "redis-a")
        _unavailable(stub, "during")
        redis_process = start_embedded_redis(tmp_path / "redis-b", port)  # empty
        after = [stub.Decide(decide_request(f"g{i}")).decision.verdict for i in range(3)]
        assert after == [arbiter_pb2.VERDICT_ALLOW, arbiter_pb2.VERDICT_SUPPRESS, arbiter_pb2.VERDICT_SUPPRESS]
        pressure = stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1"))
        assert pressure.counters[0].used == 3
        history = stub.GetContactHistory(arbiter_pb2.GetContactHistoryRequest(customer_id="c-1")).decisions
        assert "during" not in {d.firing_id for d in history}
        assert sum(d.verdict == arbiter_pb2.VERDICT_ALLOW for d in history) == 3
    finally:
        channel.close()
        running.stop(grace=0.5, drain=0)
        redis_process.terminate()
        redis_process.wait(timeout=10)


def test_postgresql_down_is_unavailable_and_recovers(settings) -> None:
    proxy, url = proxied_database_url(settings.database_url or "")
    through = settings.model_copy(update={"database_url": url})
    running, channel, stub = _serve(through, ManualClock())
    try:
        assert stub.Decide(decide_request("f1")).decision.verdict == arbiter_pb2.VERDICT_ALLOW
        proxy.cut()
        _unavailable(stub, "f2")
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1"))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        proxy.restore()
        assert stub.Decide(decide_request("f2")).decision.verdict == arbiter_pb2.VERDICT_ALLOW
        assert stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1")).counters[0].used == 2
    finally:
        channel.close()
        running.stop(grace=0.5, drain=0)
        proxy.cut()
