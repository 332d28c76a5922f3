"""Scenario's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

from datetime import datetime

import grpc

from declic.common.v1 import trigger_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, to_timestamp
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from services.scenario.domain.catalogue import ScenarioDefinition
from services.scenario.domain.firings import Firing
from services.scenario.service import ScenarioService

FIRING_ORDER = (datetime, str)
"""ListFirings' sort key: (fired_at, firing_id), oldest first."""
SCENARIO_ORDER = (str,)
"""ListScenarios' sort key: scenario_id."""


def firing_to_proto(firing: Firing, variables: dict[str, str] | None = None) -> trigger_pb2.TriggerFiring:
    """The TriggerFiring shown to callers and sent to arbiter and dispatch; `variables` overrides the stored ones."""
    return trigger_pb2.TriggerFiring(
        firing_id=firing.firing_id,
        scenario_id=firing.scenario_id,
        step_id=firing.step_id,
        customer_id=firing.customer_id,
        priority=firing.priority,
        channels=[channel_enum(c) for c in firing.channels],
        fired_at=to_timestamp(firing.fired_at),
        cause_event_id=firing.cause_event_id,
        template_id=firing.template_id,
        variables=firing.variables if variables is None else variables,
        transactional=firing.transactional,
    )


def scenario_to_proto(scenario: ScenarioDefinition) -> scenario_pb2.Scenario:
    return scenario_pb2.Scenario(
        scenario_id=scenario.scenario_id,
        name=scenario.name,
        kind=scenario_pb2.ScenarioKind.Value("SCENARIO_KIND_" + scenario.kind.upper()),
        priority=scenario.priority,
        active=scenario.active,
        description=scenario.description,
    )


def firing_status_to_proto(firing: Firing) -> scenario_pb2.FiringStatus:
    return scenario_pb2.FiringStatus(
        firing=firing_to_proto(firing),
        state=scenario_pb2.FiringState.Value("FIRING_STATE_" + firing.state.name),
        detail=firing.detail,
    )


class ScenarioServicer(scenario_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, service: ScenarioService) -> None:
        self._service = service

    def ListScenarios(
        self, request: scenario_pb2.ListScenariosRequest, context: grpc.ServicerContext
    ) -> scenario_pb2.ListScenariosResponse:
        page = page_request(request.page_size, request.page_token, SCENARIO_ORDER)
        found = self._service.scenarios(page.fetch, page.after[0] if page.after else None)
        scenarios, next_token = fill_page(found, page, lambda s: (s.scenario_id,), scenario_to_proto)
        return scenario_pb2.ListScenariosResponse(scenarios=scenarios, next_page_token=next_token)

    def ListFirings(
        self, request: scenario_pb2.ListFiringsRequest, context: grpc.ServicerContext
    ) -> scenario_pb2.ListFiringsResponse:
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        page = page_request(request.page_size, request.page_token, FIRING_ORDER, query=request.customer_id)
        found = self._service.firings_of(request.customer_id, page.fetch, page.after)
        firings, next_token = fill_page(found, page, lambda f: (f.fired_at, f.firing_id), firing_status_to_proto)
        return scenario_pb2.ListFiringsResponse(firings=firings, next_page_token=next_token)
