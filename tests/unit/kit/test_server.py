"""The kit's server: health and reflection always on, graceful stop on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from declic.kit.config import load_settings
from declic.kit.server import ServiceApp, start
from tests.conftest import free_port


def slow_app(release: threading.Event) -> ServiceApp:
    def slow(request: bytes, context: grpc.ServicerContext) -> bytes:
        release.wait(5)
        return b"done"

    handler = grpc.method_handlers_generic_handler("test.Slow", {"Call": grpc.unary_unary_rpc_method_handler(slow)})
    return ServiceApp(name="dispatch", register=lambda s: s.add_generic_rpc_handlers((handler,)),
                      service_names=["test.Slow"])


def test_stop_turns_health_off_and_lets_calls_in_flight_finish() -> None:
    release = threading.Event()
    running = start(slow_app(release), load_settings(), port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    health = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    assert health.Check(health_pb2.HealthCheckRequest(service="test.Slow")).status == serving
    names = [
        r.list_services_response.service
        for r in reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
    ][0]
    assert {s.name for s in names} >= {"test.Slow", "grpc.health.v1.Health"}

    in_flight = channel.unary_unary("/test.Slow/Call").future(b"", timeout=10)
    time.sleep(0.2)
    stopper = threading.Thread(target=running.stop, kwargs={"grace": 5, "drain": 1})
    stopper.start()
    time.sleep(0.3)
    assert health.Check(health_pb2.HealthCheckRequest(service="")).status == health_pb2.HealthCheckResponse.NOT_SERVING
    release.set()
    assert in_flight.result() == b"done"  # the call started before SIGTERM completed
    stopper.join(timeout=10)
    channel.close()


def test_sigterm_stops_a_service_process_cleanly(tmp_path, database_url, redis_url, unique_id) -> None:
    port = free_port()
    env = {"DECLIC_DATABASE_URL": database_url, "DECLIC_DB_SCHEMA_PREFIX": f"t{unique_id}_",
           "DECLIC_DISPATCH_PORT": str(port), "DECLIC_REDIS_URL": redis_url, "DECLIC_GRACE_PERIOD_SECONDS": "1",
           "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen([sys.executable, "-m", "services.dispatch"], env=env)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
