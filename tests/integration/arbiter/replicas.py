"""Arbiter replicas as real processes (`python -m services.arbiter`) over one database and one Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from declic.kit.config import Settings
from declic.kit.database import database_url
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]


def replica_env(settings: Settings, policy_file: Path, port: int) -> dict[str, str]:
    return {**os.environ, "DECLIC_DATABASE_URL": database_url(settings), "DECLIC_REDIS_URL": settings.redis_url,
            "DECLIC_DB_SCHEMA_PREFIX": settings.db_schema_prefix, "DECLIC_STREAM_PREFIX": settings.stream_prefix,
            "DECLIC_VAR_DIR": str(settings.var_dir), "DECLIC_ARBITER_PORT": str(port),
            "DECLIC_ARBITER_POLICY_FILE": str(policy_file), "DECLIC_LOG_LEVEL": "WARNING"}


@contextmanager
def replicas(settings: Settings, policy_file: Path, count: int, timeout: float = 60) -> Iterator[list[str]]:
    """`count` arbiter processes; yields their addresses once every one is SERVING."""
    ports = [free_port() for _ in range(count)]
    processes = [subprocess.Popen([sys.executable, "-m", "services.arbiter"], cwd=ROOT,
                                  env=replica_env(settings, policy_file, port),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for port in ports]
    addresses = [f"127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + timeout
        for address, process in zip(addresses, processes, strict=True):
            with grpc.insecure_channel(address) as channel:
                while True:
                    if process.poll() is not None:
                        raise RuntimeError(f"arbiter replica exited: {process.stderr.read().decode()[-2000:]}")
                    try:
                        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                        if status.status == health_pb2.HealthCheckResponse.SERVING:
                            break
                    except grpc.RpcError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"arbiter replica at {address} not serving within {timeout} s")
                    time.sleep(0.1)
        yield addresses
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
