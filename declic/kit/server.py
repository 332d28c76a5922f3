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
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from declic.kit.auth import AuthInterceptor, TokenTable
from declic.kit.config import Settings
from declic.kit.interceptors import ErrorMappingInterceptor, RequestCheckInterceptor
from declic.kit.interpreter import freeze_start_up_objects
from declic.kit.telemetry import configure_tracing, server_interceptors

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

    def stop(self, grace: float | None = None, drain: float | None = None) -> None:
        """Graceful stop: health NOT_SERVING, `drain` seconds still answering (so clients and load
        balancers move away), then no new calls and `grace` seconds for the calls in flight."""
        grace = self._settings.grace_period_seconds if grace is None else grace
        drain = self._settings.drain_seconds if drain is None else drain
        self.health.enter_graceful_shutdown()  # every service NOT_SERVING
        self.stop_event.set()
        if drain > 0:
            time.sleep(drain)
        self.server.stop(grace).wait()
        for thread in self._threads:
            # Workers notice the stop event within one poll (≤ 1 s); wait for them before closing
            # the clients they use.
            thread.join(timeout=max(grace, 3.0))
        for callback in self.app.on_stop:
            callback()
        log.info("%s stopped", self.app.name)


def start(app: ServiceApp, settings: Settings, port: int | None = None) -> RunningServer:
    """Build, bind and start the server and its workers; returns at once."""
    tokens = TokenTable(settings.auth_tokens)
    if not tokens.enabled:
        log.warning("%s: no DECLIC_AUTH_TOKENS configured: calls are not authenticated", app.name)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix=app.name),
        interceptors=[*server_interceptors(), AuthInterceptor(tokens), ErrorMappingInterceptor(),
                      RequestCheckInterceptor(app.name)],
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


def run_service(name: str, bootstrap: Callable[[Settings], ServiceApp]) -> None:
    """The `main()` of every service: configuration, logging, start-up with retries, serve until SIGTERM.

    A bad configuration exits with code 2 and names each wrong variable; a database or Redis that
    is still down after about a minute exits with code 1 and says which one (Kubernetes restarts us).
    """
    import sys

    import redis
    from sqlalchemy.exc import OperationalError
    from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

    from declic.kit.config import ConfigError, load_settings
    from declic.kit.logs import configure_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(name, settings.log_level)
    configure_tracing(name, settings.traces_exporter)
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type((OperationalError, redis.ConnectionError)),
            stop=stop_after_delay(60),
            wait=wait_exponential(multiplier=0.5, max=10),
            before_sleep=lambda state: log.warning(
                "%s: dependency not ready (%s); retrying", name, state.outcome.exception() if state.outcome else "?"
            ),
        ):
            with attempt:
                app = bootstrap(settings)
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        print(f"{name}: cannot start, a dependency is still down after 60 s: {cause}", file=sys.stderr)
        raise SystemExit(1) from None
    freeze_start_up_objects()
    serve_forever(app, settings)


def full_names(descriptors: Iterable[object]) -> list[str]:
    """Full service names from generated service descriptors (for health and reflection)."""
    return [descriptor.full_name for descriptor in descriptors]  # type: ignore[attr-defined]
