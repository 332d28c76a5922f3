"""Dispatch's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from collections.abc import Callable

from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.channels import make_channel
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.polling import PollingWorker
from declic.kit.server import ServiceApp, run_service
from services.dispatch.confirmations import Arbiter, Confirmations, GrpcArbiter
from services.dispatch.grpc_api import DispatchServicer
from services.dispatch.service import DispatchService

NAME = "dispatch"


def bootstrap(settings: Settings, clock: Clock | None = None, arbiter: Arbiter | None = None) -> ServiceApp:
    """`arbiter`: where sent messages are confirmed (the arbiter service at `settings.address("arbiter")` when
    not given)."""
    clock = clock or make_clock(settings)
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    service = DispatchService(uow, clock)
    on_stop: list[Callable[[], None]] = []
    if arbiter is None:
        channel = make_channel(settings.address("arbiter"), settings.client_token)
        arbiter = GrpcArbiter(channel, settings.call_timeout_seconds)
        on_stop.append(channel.close)
    confirmations = Confirmations(uow, clock, arbiter)
    return ServiceApp(
        name=NAME,
        register=lambda server: dispatch_pb2_grpc.add_DispatchServiceServicer_to_server(
            DispatchServicer(service), server
        ),
        service_names=[dispatch_pb2.DESCRIPTOR.services_by_name["DispatchService"].full_name],
        workers=[PollingWorker("confirmations to the arbiter", confirmations.confirm_due)],
        on_stop=[*on_stop, engine.dispose],
    )


def main() -> None:
    run_service(NAME, bootstrap)
