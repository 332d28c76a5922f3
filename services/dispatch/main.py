"""Dispatch's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.server import ServiceApp, run_service
from services.dispatch.grpc_api import DispatchServicer
from services.dispatch.service import DispatchService

NAME = "dispatch"


def bootstrap(settings: Settings, clock: Clock | None = None) -> ServiceApp:
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    service = DispatchService(UnitOfWork(session_factory(engine)), clock or make_clock(settings))
    return ServiceApp(
        name=NAME,
        register=lambda server: dispatch_pb2_grpc.add_DispatchServiceServicer_to_server(
            DispatchServicer(service), server
        ),
        service_names=[dispatch_pb2.DESCRIPTOR.services_by_name["DispatchService"].full_name],
        on_stop=[engine.dispose],
    )


def main() -> None:
    run_service(NAME, bootstrap)
