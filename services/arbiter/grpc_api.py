"""Arbiter's gRPC face."""

from __future__ import annotations

import grpc

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.errors import InvalidArgument
from declic.kit.protoconv import channel_enum, channel_name, to_timestamp
from services.arbiter.domain.decisions import Decision, FiringRequest
from services.arbiter.service import ArbiterService


def decision_to_proto(decision: Decision) -> arbiter_pb2.Decision:
    message = arbiter_pb2.Decision(
        firing_id=decision.firing_id,
        verdict=arbiter_pb2.Verdict.Value("VERDICT_" + decision.verdict.name),
        explanation=decision.explanation,
        decided_at=to_timestamp(decision.decided_at),
    )
    if decision.channel:
        message.channel = channel_enum(decision.channel)
    if decision.reason.name != "NONE":
        message.reason = arbiter_pb2.SuppressReason.Value("SUPPRESS_REASON_" + decision.reason.name)
    if decision.defer_until is not None:
        message.defer_until.CopyFrom(to_timestamp(decision.defer_until))
    return message


class ArbiterServicer(arbiter_pb2_grpc.ArbiterServiceServicer):
    def __init__(self, service: ArbiterService) -> None:
        self._service = service

    def Decide(self, request: arbiter_pb2.DecideRequest, context: grpc.ServicerContext):
        firing = request.firing
        violations = []
        if not firing.firing_id:
            violations.append(("firing.firing_id", "is required"))
        if not firing.customer_id:
            violations.append(("firing.customer_id", "is required"))
        if not firing.scenario_id:
            violations.append(("firing.scenario_id", "is required"))
        for index, channel in enumerate(firing.channels):
            if channel == 0:
                violations.append((f"firing.channels[{index}]", "must not be CHANNEL_UNSPECIFIED"))
        if violations:
            raise InvalidArgument("", violations)
        decision = self._service.decide(
            FiringRequest(
                firing_id=firing.firing_id,
                scenario_id=firing.scenario_id,
                customer_id=firing.customer_id,
                wanted_channels=tuple(channel_name(c) for c in firing.channels),
                contactable_channels=frozenset(channel_name(c) for c in request.contactable_channels if c),
                transactional=firing.transactional,
            )
        )
        return arbiter_pb2.DecideResponse(decision=decision_to_proto(decision))

    def GetContactHistory(self, request: arbiter_pb2.GetContactHistoryRequest, context: grpc.ServicerContext):
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        if request.limit < 0:
            raise InvalidArgument.field("limit", "must be >= 0")
        decisions = self._service.history(request.customer_id, request.limit or 50)
        return arbiter_pb2.GetContactHistoryResponse(decisions=[decision_to_proto(d) for d in decisions])
