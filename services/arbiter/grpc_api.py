"""Arbiter's gRPC face: protobuf ↔ plain types, nothing else."""

from __future__ import annotations

from datetime import datetime

import grpc

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.errors import InvalidArgument
from declic.kit.paging import fill_page, page_request
from declic.kit.protoconv import channel_enum, channel_name, to_timestamp
from services.arbiter.domain.decisions import Decision, FiringRequest, SuppressReason
from services.arbiter.service import ArbiterService

HISTORY_ORDER = (datetime, str)
"""GetContactHistory's sort key: (decided_at, firing_id), newest first."""


def request_from_proto(request: arbiter_pb2.DecideRequest) -> FiringRequest:
    """The firing to judge; InvalidArgument names every missing or unspecified field."""
    firing = request.firing
    required = {
        "firing.firing_id": firing.firing_id,
        "firing.customer_id": firing.customer_id,
        "firing.scenario_id": firing.scenario_id,
    }
    violations = [(name, "is required") for name, value in required.items() if not value]
    violations += [
        (f"firing.channels[{index}]", "must not be CHANNEL_UNSPECIFIED")
        for index, channel in enumerate(firing.channels)
        if channel == 0
    ]
    if violations:
        raise InvalidArgument("", violations)
    return FiringRequest(
        firing_id=firing.firing_id,
        scenario_id=firing.scenario_id,
        customer_id=firing.customer_id,
        wanted_channels=tuple(channel_name(c) for c in firing.channels),
        contactable_channels=frozenset(channel_name(c) for c in request.contactable_channels if c),
        transactional=firing.transactional,
    )


def decision_to_proto(decision: Decision) -> arbiter_pb2.Decision:
    message = arbiter_pb2.Decision(
        firing_id=decision.firing_id,
        verdict=arbiter_pb2.Verdict.Value("VERDICT_" + decision.verdict.name),
        explanation=decision.explanation,
        decided_at=to_timestamp(decision.decided_at),
    )
    if decision.channel:
        message.channel = channel_enum(decision.channel)
    if decision.reason is not SuppressReason.NONE:
        message.reason = arbiter_pb2.SuppressReason.Value("SUPPRESS_REASON_" + decision.reason.name)
    if decision.defer_until is not None:
        message.defer_until.CopyFrom(to_timestamp(decision.defer_until))
    return message


class ArbiterServicer(arbiter_pb2_grpc.ArbiterServiceServicer):
    def __init__(self, service: ArbiterService) -> None:
        self._service = service

    def Decide(self, request: arbiter_pb2.DecideRequest, context: grpc.ServicerContext) -> arbiter_pb2.DecideResponse:
        decision = self._service.decide(request_from_proto(request))
        return arbiter_pb2.DecideResponse(decision=decision_to_proto(decision))

    def GetContactHistory(
        self, request: arbiter_pb2.GetContactHistoryRequest, context: grpc.ServicerContext
    ) -> arbiter_pb2.GetContactHistoryResponse:
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        if request.limit < 0:
            raise InvalidArgument.field("limit", "must be >= 0")
        page = page_request(request.page_size or request.limit, request.page_token, HISTORY_ORDER,
                            query=request.customer_id)
        found = self._service.history(request.customer_id, page.fetch, page.after)
        decisions, next_token = fill_page(found, page, lambda d: (d.decided_at, d.firing_id), decision_to_proto)
        return arbiter_pb2.GetContactHistoryResponse(decisions=decisions, next_page_token=next_token)
