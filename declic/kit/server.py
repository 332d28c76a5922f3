"""Start a Declic gRPC server the same way in every service.

Health (`grpc.health.v1`) and reflection are always on; interceptors map
errors and log calls; background workers (stream consumers, relays,
schedulers) run beside the server. SIGTERM or SIGINT turns health to
NOT_SERVING, stops the workers and gives in-flight calls a grace period.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from declic.kit.config import Settings
from declic.kit.interceptors import ErrorMappingInterceptor

log = logging.getLogger("declic.server")

MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class Worker(Protocol):
    def run(self, stop: threading.Event) -> None: ...


@dataclass
class ServiceApp:
    """What a service contributes: its servicers, its full service names and its workers."""

    name: str
    register: Callable[[grpc.Server], None]
    service_names: list[str]
    workers: list[Worker] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)


class RunningServer:
    """A started server with its workers; `stop()` is the graceful shutdown."""

    def __init__(self, app: ServiceApp, server: grpc.Server, health_servicer: health.HealthServicer,
                 port: int, settings: Settings) -> None:
        self.app = app
        self.server = server
        self.health = health_servicer
        self.port = port
        self._settings = settings
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []

    def start_workers(self) -> None:
        for worker in self.app.workers:
            thread = threading.Thread(
                target=worker.run, args=(self.stop_event,), name=f"{self.app.name}-{type(worker).__name__}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, grace: float | None = None) -> None:
        grace = self._settings.grace_period_seconds if grace is None else grace
        self.health.enter_graceful_shutdown()  # every service NOT_SERVING: load balancers drain us
        self.stop_event.set()
        self.server.stop(grace).wait()
        for thread in self._threads:
            thread.join(timeout=grace)
        for callback in self.app.on_stop:
            callback()
        log.info("%s stopped", self.app.name)


def start(app: ServiceApp, settings: Settings, port: int | None = None) -> RunningServer:
    """Build, bind and start the server and its workers; returns at once."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix=app.name),
        interceptors=[ErrorMappingInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    app.register(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*app.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    wanted = settings.port(app.name) if port is None else port
    bound = server.add_insecure_port(f"{settings.host}:{wanted}")
    if bound == 0:
        raise RuntimeError(f"{app.name}: cannot listen on {settings.host}:{wanted} (port in use?)")
    server.start()
    running = RunningServer(app, server, health_servicer, bound, settings)
    running.start_workers()
    for name in [*app.service_names, ""]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("%s serving on %s:%d", app.name, settings.host, bound)
    return running


def serve_forever(app: ServiceApp, settings: Settings) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    running = start(app, settings)
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("%s: signal %d, shutting down", app.name, signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stopping.wait()
    running.stop()


def full_names(descriptors: Iterable[object]) -> list[str]:
    """Full service names from generated service descriptors (for health and reflection)."""
    return [descriptor.full_name for descriptor in descriptors]  # type: ignore[attr-defined]
