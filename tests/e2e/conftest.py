"""End-to-end fixtures: the six services as real processes, talking real gRPC.

Every test gets its own ports, database schemas and Redis
key prefix, so a test can kill and restart services without disturbing others.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.channels import make_channel
from declic.kit.clock import SharedClock, shared_clock_key
from declic.kit.config import SERVICES, load_settings
from declic.kit.protoconv import to_timestamp
from declic.stack import Stack
from tests.conftest import free_port

INTERNAL_TOKEN = "e2e-internal-token"
CALL_CENTER_TOKEN = "e2e-call-center-token"


@pytest.fixture
def stack(tmp_path: Path, database_url: str, redis_url: str, unique_id: str) -> Iterator[Stack]:
    env = {
        "DECLIC_DATABASE_URL": database_url,
        "DECLIC_DB_SCHEMA_PREFIX": f"e{unique_id}_",
        "DECLIC_REDIS_URL": redis_url,
        "DECLIC_STREAM_PREFIX": f"e{unique_id}",
        "DECLIC_VAR_DIR": str(tmp_path / "var"),
        "DECLIC_GRACE_PERIOD_SECONDS": "1",
        "DECLIC_DRAIN_SECONDS": "0",
        # Auth on: every service-to-service call must present the internal token.
        "DECLIC_AUTH_TOKENS": json.dumps({INTERNAL_TOKEN: ["*"], CALL_CENTER_TOKEN: ["profile:read"]}),
        "DECLIC_CLIENT_TOKEN": INTERNAL_TOKEN,
        # Tracing on: each service writes its spans to its own JSON-lines file.
        "DECLIC_TRACES_EXPORTER": f"jsonl:{tmp_path}/traces-{{service}}.jsonl",
        "DECLIC_CALL_TIMEOUT_SECONDS": "2",
        # The real clock: no holding window, no quiet hours, no control group (tests/e2e/pressure.yaml says why).
        "DECLIC_ARBITER_POLICY_FILE": str(Path(__file__).with_name("pressure.yaml")),
    }
    with running_stack(env, tmp_path / "logs") as system:
        yield system


@contextmanager
def running_stack(env: dict[str, str], log_dir: Path, timeout: float = 60) -> Iterator[Stack]:
    """The six services as processes sharing `env` (their ports are added: free ones), until the block ends."""
    for name in SERVICES:
        env[f"DECLIC_{name.upper()}_PORT"] = str(free_port())
    settings = load_settings(
        **{key.removeprefix("DECLIC_").lower(): value for key, value in env.items()}
    )
    system = Stack(settings, env=env, log_dir=log_dir)
    system.start_all()
    try:
        system.wait_serving(timeout=timeout)
        yield system
    finally:
        system.stop_all()


@pytest.fixture
def channel_to(stack: Stack) -> Iterator[Callable[[str], grpc.Channel]]:
    opened: dict[str, grpc.Channel] = {}

    def _channel(name: str) -> grpc.Channel:
        if name not in opened:
            opened[name] = make_channel(stack.address(name), INTERNAL_TOKEN)
        return opened[name]

    yield _channel
    for channel in opened.values():
        channel.close()


def eventually(probe: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2,
               explain: Callable[[], Any] | None = None) -> Any:
    """Call `probe` until it returns something truthy; fail with its last answer after `timeout` (and with what
    `explain` says of the state then: where a firing stands, say)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except grpc.RpcError as exc:
            last = exc
        if last and not isinstance(last, grpc.RpcError):
            return last
        time.sleep(interval)
    context = ""
    if explain is not None:
        try:
            context = f"; {explain()!r}"
        except grpc.RpcError as exc:
            context = f"; explaining failed: {exc!r}"
    raise AssertionError(f"condition not met after {timeout}s; last answer: {last!r}{context}")


START = datetime(2026, 6, 1, 8, tzinfo=UTC)  # a Monday, 10:00 in Paris
"""Where the shared simulated clock of `simulated` starts."""


@pytest.fixture
def simulated(tmp_path, database_url, redis_url, unique_id, redis_client):
    env = {"DECLIC_DATABASE_URL": database_url, "DECLIC_DB_SCHEMA_PREFIX": f"j{unique_id}_",
           "DECLIC_REDIS_URL": redis_url, "DECLIC_STREAM_PREFIX": f"j{unique_id}",
           "DECLIC_VAR_DIR": str(tmp_path / "var"), "DECLIC_GRACE_PERIOD_SECONDS": "1", "DECLIC_DRAIN_SECONDS": "0",
           "DECLIC_CLIENT_TOKEN": INTERNAL_TOKEN, "DECLIC_CALL_TIMEOUT_SECONDS": "2", "DECLIC_CLOCK": "shared"}
    clock = SharedClock(redis_client, shared_clock_key(env["DECLIC_STREAM_PREFIX"]))
    clock.set(START, speed=1.0)
    with running_stack(env, tmp_path / "logs") as stack:
        jump(clock, START)  # again: starting the stack took a while on the simulated clock too
        yield stack, clock


def jump(clock: SharedClock, to: datetime) -> None:
    clock.set(to, speed=1.0)
    time.sleep(0.8)  # every service re-reads the shared time at most every 0.5 s


def event(email: str, at: datetime, **payload) -> event_pb2.Event:
    return event_pb2.Event(event_id=uuid.uuid4().hex, source="webshop", event_time=to_timestamp(at),
                           identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=email)],
                           **payload)
