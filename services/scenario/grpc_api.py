"""Scenario's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

from datetime import datetime

import grpc

from declic.common.v1 import trigger_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, to_datetime, to_timestamp
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.scenarios.describe import describe_re_entry, describe_steps, describe_trigger
from services.scenario.catalogue_service import CatalogueService, ScenarioView
from services.scenario.domain.firings import Firing
from services.scenario.domain.journeys import Journey
from services.scenario.service import ScenarioService

FIRING_ORDER = (datetime, str)
"""ListFirings' and ListJourneys' sort key: (fired_at or entered_at, id), oldest first."""
SCENARIO_ORDER = (str,)
"""ListScenarios' sort key: scenario_id."""
_KINDS = {"time": "TIME_BASED", "event": "EVENT_BASED", "behaviour": "BEHAVIOUR_BASED",
          "conversion": "CONVERSION_BASED", "transaction": "TRANSACTION_BASED", "campaign": "CAMPAIGN"}


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


def scenario_to_proto(view: ScenarioView) -> scenario_pb2.Scenario:
    message = scenario_pb2.Scenario(scenario_id=view.scenario_id, file=view.file, valid=view.scenario is not None,
                                    problems=view.problems, paused=view.paused, source=view.source)
    scenario = view.scenario
    if scenario is not None:
        message.name, message.description, message.priority = scenario.name, scenario.purpose, scenario.priority
        message.kind = scenario_pb2.ScenarioKind.Value("SCENARIO_KIND_" + _KINDS[scenario.kind])
        message.active = scenario.active and not view.paused
        message.category, message.plan = scenario.category, scenario.plan or ""
        message.trigger, message.re_entry = describe_trigger(scenario), describe_re_entry(scenario)
        message.holdout_percent = scenario.holdout
        message.steps.extend(describe_steps(scenario))
    return message


def journey_to_proto(journey: Journey) -> scenario_pb2.Journey:
    message = scenario_pb2.Journey(
        journey_id=journey.journey_id, scenario_id=journey.scenario_id, customer_id=journey.customer_id,
        entry_key=journey.entry_key, state=scenario_pb2.JourneyState.Value("JOURNEY_STATE_" + journey.state.name),
        step=journey.step, detail=journey.detail, entered_at=to_timestamp(journey.entered_at),
        occurrences=journey.occurrences, variables=journey.variables, waiting_for=journey.waiting_for,
        cause_event_id=journey.cause_event_id,
    )
    if journey.due_at is not None:
        message.due_at.CopyFrom(to_timestamp(journey.due_at))
    if journey.goal_at is not None:
        message.goal_reached_at.CopyFrom(to_timestamp(journey.goal_at))
    return message


def firing_status_to_proto(firing: Firing) -> scenario_pb2.FiringStatus:
    return scenario_pb2.FiringStatus(
        firing=firing_to_proto(firing),
        state=scenario_pb2.FiringState.Value("FIRING_STATE_" + firing.state.name),
        detail=firing.detail,
    )


def _required(value: str, name: str, max_chars: int = 100) -> str:
    """A required text field, at most `max_chars` long (the width it is stored in)."""
    if not value:
        raise InvalidArgument.field(name, "is required")
    return _bounded(value, name, max_chars)


def _bounded(value: str, name: str, max_chars: int) -> str:
    if len(value) > max_chars:
        raise InvalidArgument.field(name, f"must be at most {max_chars} characters")
    return value


class ScenarioServicer(scenario_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, service: ScenarioService, catalogue: CatalogueService) -> None:
        self._service = service
        self._catalogue = catalogue

    def ListScenarios(self, request: scenario_pb2.ListScenariosRequest,
                      context: grpc.ServicerContext) -> scenario_pb2.ListScenariosResponse:
        page = page_request(request.page_size, request.page_token, SCENARIO_ORDER)
        found = self._catalogue.views(page.fetch, page.after[0] if page.after else None)
        scenarios, next_token = fill_page(found, page, lambda s: (s.scenario_id,), scenario_to_proto)
        return scenario_pb2.ListScenariosResponse(scenarios=scenarios, next_page_token=next_token)

    def GetScenario(self, request: scenario_pb2.GetScenarioRequest,
                    context: grpc.ServicerContext) -> scenario_pb2.GetScenarioResponse:
        view = self._catalogue.view(_required(request.scenario_id, "scenario_id"))
        return scenario_pb2.GetScenarioResponse(scenario=scenario_to_proto(view))

    def ListFirings(self, request: scenario_pb2.ListFiringsRequest,
                    context: grpc.ServicerContext) -> scenario_pb2.ListFiringsResponse:
        _required(request.customer_id, "customer_id")
        page = page_request(request.page_size, request.page_token, FIRING_ORDER, query=request.customer_id)
        found = self._service.firings_of(request.customer_id, page.fetch, page.after)
        firings, next_token = fill_page(found, page, lambda f: (f.fired_at, f.firing_id), firing_status_to_proto)
        return scenario_pb2.ListFiringsResponse(firings=firings, next_page_token=next_token)

    def ListJourneys(self, request: scenario_pb2.ListJourneysRequest,
                     context: grpc.ServicerContext) -> scenario_pb2.ListJourneysResponse:
        _required(request.customer_id, "customer_id")
        page = page_request(request.page_size, request.page_token, FIRING_ORDER, query=request.customer_id)
        found = self._catalogue.journeys_of(request.customer_id, page.fetch, page.after)  # type: ignore[arg-type]
        journeys, next_token = fill_page(found, page, lambda j: (j.entered_at, j.journey_id), journey_to_proto)
        return scenario_pb2.ListJourneysResponse(journeys=journeys, next_page_token=next_token)

    def EnterCustomer(self, request: scenario_pb2.EnterCustomerRequest,
                      context: grpc.ServicerContext) -> scenario_pb2.EnterCustomerResponse:
        journey, entered = self._catalogue.enter(
            _required(request.scenario_id, "scenario_id"), _required(request.customer_id, "customer_id", 64),
            _bounded(request.business_key, "business_key", 150), dict(request.variables), request.reason)
        return scenario_pb2.EnterCustomerResponse(journey=journey_to_proto(journey), entered=entered)

    def PauseScenario(self, request: scenario_pb2.PauseScenarioRequest,
                      context: grpc.ServicerContext) -> scenario_pb2.PauseScenarioResponse:
        view = self._catalogue.set_paused(_required(request.scenario_id, "scenario_id"), True, request.reason)
        return scenario_pb2.PauseScenarioResponse(scenario=scenario_to_proto(view))

    def ResumeScenario(self, request: scenario_pb2.ResumeScenarioRequest,
                       context: grpc.ServicerContext) -> scenario_pb2.ResumeScenarioResponse:
        view = self._catalogue.set_paused(_required(request.scenario_id, "scenario_id"), False, "")
        return scenario_pb2.ResumeScenarioResponse(scenario=scenario_to_proto(view))

    def TriggerCampaign(self, request: scenario_pb2.TriggerCampaignRequest,
                        context: grpc.ServicerContext) -> scenario_pb2.TriggerCampaignResponse:
        send_at = to_datetime(request.send_at) if request.HasField("send_at") else None
        entered = self._catalogue.trigger_campaign(_required(request.scenario_id, "scenario_id"),
                                                   _bounded(request.campaign_id, "campaign_id", 150), send_at)
        return scenario_pb2.TriggerCampaignResponse(campaign_id=request.campaign_id, entered=entered)
