"""What every benchmark's rig shares: where PostgreSQL and Redis are (the machine's, or the embedded default's, started
for the run), a free port, a service process to measure, schemas dropped at the end, the machine's name for the tables
and percentiles."""

from __future__ import annotations

import atexit
import functools
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc

from declic.kit import bundled_postgres
from declic.kit.redis_client import start_embedded_redis

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """DECLIC_DATABASE_URL, or the bundled PostgreSQL of the embedded default (var/bench/postgres, left running)."""
    return os.environ.get("DECLIC_DATABASE_URL") or bundled_postgres.ensure_running(ROOT / "var" / "bench")


@functools.cache
def redis_url() -> str:
    """DECLIC_REDIS_URL, or the bundled redis-server (started for this run, stopped at exit)."""
    if os.environ.get("DECLIC_REDIS_URL"):
        return os.environ["DECLIC_REDIS_URL"]
    port = free_port()
    server = start_embedded_redis(ROOT / "var" / "bench" / "redis", port)
    atexit.register(server.terminate)
    return f"redis://127.0.0.1:{port}/0"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process: `python -m services.ingest`, or this module's no-op server."""

    def __init__(self, args: Sequence[str], env: dict[str, str], port: int, checkout: Path = ROOT) -> None:
        """`checkout`: the source tree to run (another checkout of the project: its code is imported first)."""
        self.port = port
        self.process = subprocess.Popen([sys.executable, *args], env={**os.environ, **env}, cwd=checkout)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", 8 << 20), ("grpc.max_receive_message_length", 8 << 20)])
        health = health_pb2_grpc.HealthStub(self.channel)
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {' '.join(args)} did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.channel.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def percentile(values: Sequence[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


def drop_schemas(url: str, prefix: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for (schema,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "%",)):
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} vCPU, {model}, Python {platform.python_version()}"
