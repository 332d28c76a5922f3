"""The whole system as local processes: the bundled PostgreSQL and Redis (when
needed) and the six services, each its own `python -m services.<name>` process.

Used by `declic run`, by `make demo` and by the end-to-end tests.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from declic.kit import bundled_postgres
from declic.kit.config import EMBEDDED_REDIS_PORT, SERVICES, Settings
from declic.kit.redis_client import start_embedded_redis
from declic.kit.supervisor import Supervisor

REPO_ROOT = Path(__file__).resolve().parents[1]


def health_status(address: str, timeout: float = 1.0) -> str:
    """"SERVING", "NOT_SERVING", ... or "UNREACHABLE" for the server at `address`."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@dataclass
class Stack:
    """Local processes of one Declic system; `env` holds the DECLIC_* variables they share."""

    settings: Settings
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis_process: subprocess.Popen[bytes] | None = None
    postgres_started: bool = False

    def start_database_if_needed(self) -> None:
        """Start the bundled PostgreSQL when DECLIC_DATABASE_URL is unset, and hand its URL to the services."""
        if not self.settings.uses_bundled_postgres:
            return
        self.env["DECLIC_DATABASE_URL"] = bundled_postgres.ensure_running(self.settings.var_dir)
        self.postgres_started = True

    def start_redis_if_needed(self) -> None:
        """Start the bundled redis-server when DECLIC_REDIS_URL is the embedded default and nothing answers."""
        if redis_reachable(self.settings.redis_url):
            return
        if self.settings.redis_url != f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0":
            raise RuntimeError(
                f"Redis at {self.settings.redis_url} does not answer: start it, or unset DECLIC_REDIS_URL "
                "to use the embedded one"
            )
        self.redis_process = start_embedded_redis(self.settings.var_dir, EMBEDDED_REDIS_PORT)

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """A new process of one service, its output appended to <log_dir>/<name>.log. In a session of its own:
        a Ctrl-C in the terminal reaches the stack only, which stops the services itself, in order."""
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        if self.log_dir is None:
            return subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=REPO_ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as output:  # the child keeps its own copy open
            return subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=REPO_ROOT, env=env,
                                    stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, name: str) -> None:
        """Start (or restart) one service process, unsupervised: a test decides when it dies and comes back."""
        self.processes[name] = self.spawn(name)

    def start_all(self, names: tuple[str, ...] = SERVICES) -> None:
        for name in names:
            self.start(name)

    def supervise_all(self, supervisor: Supervisor, names: tuple[str, ...] = SERVICES) -> None:
        """Start every service under `supervisor`: one that dies is started again with backoff (`declic run`)."""
        for name in names:
            supervisor.add(name, functools.partial(self.spawn, name))

    def wait_serving(self, names: tuple[str, ...] = SERVICES, timeout: float = 60.0) -> dict[str, str]:
        """Wait until every named service answers SERVING; raise naming the laggards."""
        deadline = time.monotonic() + timeout
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            statuses = {name: health_status(self.address(name)) for name in names}
            if all(status == "SERVING" for status in statuses.values()):
                return statuses
            for name in names:
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}{self._log_hint(name)}")
            time.sleep(0.2)
        late = ", ".join(f"{n}={s}" for n, s in statuses.items() if s != "SERVING")
        raise TimeoutError(f"not SERVING after {timeout:.0f}s: {late}")

    def address(self, name: str) -> str:
        return self.settings.address(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Stop one service (SIGTERM: graceful; SIGKILL: a crash)."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self.stop(name)
        if self.redis_process is not None:
            self.redis_process.terminate()
            self.redis_process.wait(timeout=10)
            self.redis_process = None
        if self.postgres_started:
            bundled_postgres.stop(self.settings.var_dir)
            self.postgres_started = False

    def _log_hint(self, name: str) -> str:
        return f" (see {self.log_dir / (name + '.log')})" if self.log_dir else ""


def env_for(settings_env: Mapping[str, str]) -> dict[str, str]:
    """DECLIC_* variables as strings, for child processes."""
    return {key: str(value) for key, value in settings_env.items()}


STACK_RECORD = "stack.json"


def write_record(stack: Stack) -> Path:
    """Note where a running `declic run` serves (var/stack.json), so that `declic status` finds it from any shell."""
    path = stack.settings.var_dir / STACK_RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "addresses": {name: stack.address(name) for name in SERVICES}}
    path.write_text(json.dumps(record, indent=2))
    return path


def forget_record(var_dir: Path) -> None:
    (var_dir / STACK_RECORD).unlink(missing_ok=True)


def running_addresses(var_dir: Path) -> dict[str, str] | None:
    """The addresses a `declic run` recorded under `var_dir`, if that run is still alive."""
    try:
        record = json.loads((var_dir / STACK_RECORD).read_text())
        os.kill(int(record["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(name): str(address) for name, address in record["addresses"].items()}
