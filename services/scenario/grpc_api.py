"""Scenario's gRPC face."""

from __future__ import annotations

import grpc

from declic.kit.database import UnitOfWork
from declic.kit.errors import InvalidArgument
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from services.scenario.domain.catalogue import BUILT_IN
from services.scenario.firing_proto import firing_to_proto
from services.scenario.storage import FiringRepository


class ScenarioServicer(scenario_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def ListScenarios(self, request: scenario_pb2.ListScenariosRequest, context: grpc.ServicerContext):
        return scenario_pb2.ListScenariosResponse(
            scenarios=[
                scenario_pb2.Scenario(
                    scenario_id=s.scenario_id,
                    name=s.name,
                    kind=scenario_pb2.ScenarioKind.Value("SCENARIO_KIND_" + s.kind.upper()),
                    priority=s.priority,
                    active=s.active,
                    description=s.description,
                )
                for s in BUILT_IN
            ]
        )

    def ListFirings(self, request: scenario_pb2.ListFiringsRequest, context: grpc.ServicerContext):
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        with self._uow.begin() as session:
            firings = FiringRepository(session).for_customer(request.customer_id)
        return scenario_pb2.ListFiringsResponse(
            firings=[
                scenario_pb2.FiringStatus(
                    firing=firing_to_proto(f),
                    state=scenario_pb2.FiringState.Value("FIRING_STATE_" + f.state.name),
                    detail=f.detail,
                )
                for f in firings
            ]
        )
